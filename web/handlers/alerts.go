package handlers

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
	"github.com/rcbu-console/rcbu-console/words"
)

// alertRoutes registers the alerts pages. Roles: everyone signed
// in sees the incidents; Creators and Admins acknowledge them and snooze
// agents and configurations; Creators and Admins see delivery logs (they run
// the jobs the alerts are about); only Admins see and change channels,
// thresholds, overdue grace and the digest, and send tests and digests.
func (s *server) alertRoutes(r *routes, al *app.Alerts) {
	r.get("/alerts", app.RoleObserver, s.incidentsPage(al, s.History))
	r.get("/alerts/incidents/:id", app.RoleObserver, s.incidentPage(al))
	// Acknowledging and snoozing are for Creators and Admins: they run the
	// jobs that fix a problem, and a snooze changes what the team is told.
	r.post("/alerts/incidents/:id/ack", app.RoleCreator, s.acknowledgeIncident(al))
	r.post("/alerts/snoozes", app.RoleCreator, s.snoozeTarget(al))
	r.post("/alerts/snoozes/end", app.RoleCreator, s.endSnooze(al))
	r.get("/alerts/channels", app.RoleAdmin, s.channelsPage(al))
	r.get("/alerts/channels/new", app.RoleAdmin, s.newChannelPage())
	r.post("/alerts/channels", app.RoleAdmin, s.createChannel(al))
	r.get("/alerts/channels/:id/edit", app.RoleAdmin, s.editChannelPage(al))
	r.post("/alerts/channels/:id", app.RoleAdmin, s.updateChannel(al))
	r.get("/alerts/channels/:id/delete", app.RoleAdmin, s.deleteChannelPage(al))
	r.post("/alerts/channels/:id/delete", app.RoleAdmin, s.deleteChannel(al))
	r.post("/alerts/channels/:id/test", app.RoleAdmin, s.testChannel(al))
	r.get("/alerts/channels/:id/deliveries", app.RoleCreator, s.deliveriesPage(al))
	r.get("/alerts/settings", app.RoleAdmin, s.alertSettingsPage(al))
	r.post("/alerts/settings", app.RoleAdmin, s.updateAlertSettings(al))
	r.post("/alerts/settings/grace", app.RoleAdmin, s.setOverdueGrace(al))
	r.post("/alerts/settings/bulk", app.RoleAdmin, s.bulkEdit(al))
	r.post("/alerts/digest/send", app.RoleAdmin, s.sendDigestNow(al))
}

func alertsNav(c echo.Context, current string) templates.AlertsNavView {
	u := mustUser(c)
	return templates.AlertsNavView{IsAdmin: u.Role.Allows(app.RoleAdmin), Current: current}
}

// perAccount wraps a page about one account: while "All accounts" is
// selected it shows the "choose one account" page (title and current name
// the page and its tab) instead of calling h.
func (s *server) perAccount(title, current string, h func(c echo.Context, acct app.Account) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		acct, ok := currentAccount(c)
		if !ok {
			return s.pickAccount(c, title, current)
		}
		return h(c, acct)
	}
}

// pickAccount renders the "choose one account" page for per-account pages
// while "All accounts" is selected.
func (s *server) pickAccount(c echo.Context, title, current string) error {
	return render(c, http.StatusOK, templates.PickAccountPage(templates.PickAccountView{
		Meta: s.meta(c, title, templates.NavAlerts), Nav: alertsNav(c, current),
	}))
}

type channelLister interface {
	Channels(ctx context.Context, actor app.User, account app.AccountID) ([]app.Channel, error)
}

func ruleLabels(rules []app.RuleKind) string {
	if len(rules) == 0 {
		return "None (tests and digests only)"
	}
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.Label()
	}
	return strings.Join(out, ", ")
}

// channelsPage lists the selected account's channels.
func (s *server) channelsPage(al channelLister) echo.HandlerFunc {
	return s.perAccount("Alert channels", "channels", func(c echo.Context, acct app.Account) error {
		u := mustUser(c)
		list, err := al.Channels(c.Request().Context(), u, acct.ID)
		if err != nil {
			return err
		}
		v := templates.ChannelsView{Meta: s.meta(c, "Alert channels", templates.NavAlerts), Nav: alertsNav(c, "channels"), Account: acct.Name}
		for _, ch := range list {
			v.Rows = append(v.Rows, templates.ChannelRow{ID: ch.ID.String(), Name: ch.Name, Kind: ch.Kind.Label(), Target: ch.Target(),
				Rules: ruleLabels(ch.Rules), Enabled: ch.Enabled})
		}
		return render(c, http.StatusOK, templates.ChannelsPage(v))
	})
}

// channelForm reads the channel form.
func channelForm(c echo.Context) (app.ChannelRequest, error) {
	form, err := c.FormParams()
	if err != nil {
		return app.ChannelRequest{}, fmt.Errorf("channel form: %w", app.Invalid("", "The form could not be read."))
	}
	return app.ChannelRequest{
		Name: form.Get("name"), Kind: form.Get("kind"), Enabled: form.Get("enabled") == "true",
		URL: form.Get("url"), Secret: form.Get("secret"),
		SMTPHost: form.Get("smtp_host"), SMTPPort: form.Get("smtp_port"), SMTPSecurity: form.Get("smtp_security"),
		SMTPUsername: form.Get("smtp_username"), SMTPFrom: form.Get("smtp_from"), SMTPTo: form.Get("smtp_to"),
		Rules: form["rules"],
	}, nil
}

// channelFormView maps a request (never its secret) to the form.
func (s *server) channelFormView(c echo.Context, title string, acct app.Account, existing *app.Channel, req app.ChannelRequest, errs templates.FormErrors) templates.ChannelFormView {
	v := templates.ChannelFormView{
		Meta: s.meta(c, title, templates.NavAlerts), Nav: alertsNav(c, "channels"), Account: acct.Name,
		Name: req.Name, Kind: req.Kind, Enabled: req.Enabled, URL: req.URL,
		SMTPHost: req.SMTPHost, SMTPPort: req.SMTPPort, SMTPSecurity: req.SMTPSecurity, SMTPUsername: req.SMTPUsername,
		SMTPFrom: req.SMTPFrom, SMTPTo: req.SMTPTo, Errors: errs,
	}
	if existing != nil {
		v.Editing, v.ID, v.HasSecret = true, existing.ID.String(), existing.HasSecret()
		v.Kind, v.KindLabel = string(existing.Kind), existing.Kind.Label()
		if existing.Kind == app.ChannelSlack {
			v.URL = "" // the Slack URL is the secret
		}
	}
	for _, k := range app.ChannelKinds() {
		v.Kinds = append(v.Kinds, templates.Option{Value: string(k), Label: k.Label(), Selected: string(k) == req.Kind})
		if string(k) == req.Kind {
			v.KindLabel = k.Label()
		}
		v.KindLinks = append(v.KindLinks, templates.LinkView{Href: "/alerts/channels/new?kind=" + string(k), Label: k.Label()})
	}
	// A new channel's form is one kind's: until the kind is known, the
	// page asks for it.
	v.ChooseKind = existing == nil && v.KindLabel == ""
	for _, r := range app.RuleKinds() {
		checked := false
		for _, got := range req.Rules {
			checked = checked || got == string(r)
		}
		v.Rules = append(v.Rules, templates.CheckOption{Value: string(r), Label: r.Label(), Checked: checked})
	}
	return v
}

// newChannelPage asks for the kind of a new channel (?kind=), then shows
// that kind's form, every rule routed.
func (s *server) newChannelPage() echo.HandlerFunc {
	return s.perAccount("Add a channel", "channels", func(c echo.Context, acct app.Account) error {
		// Without a kind the page opens on a webhook's form, with links to the other kinds' forms.
		req := app.ChannelRequest{Kind: cmp.Or(c.QueryParam("kind"), string(app.ChannelWebhook)), Enabled: true, SMTPSecurity: string(app.SMTPStartTLS)}
		for _, r := range app.RuleKinds() {
			req.Rules = append(req.Rules, string(r))
		}
		return render(c, http.StatusOK, templates.ChannelFormPage(s.channelFormView(c, "Add a channel", acct, nil, req, nil)))
	})
}

type channelCreator interface {
	CreateChannel(ctx context.Context, actor app.User, account app.AccountID, req app.ChannelRequest) (app.Channel, error)
}

// createChannel validates and saves a new channel; a failure re-renders the
// form with its problems (422) and saves nothing.
func (s *server) createChannel(al channelCreator) echo.HandlerFunc {
	return s.perAccount("Add a channel", "channels", func(c echo.Context, acct app.Account) error {
		u := mustUser(c)
		req, err := channelForm(c)
		if err != nil {
			return err
		}
		ch, err := al.CreateChannel(c.Request().Context(), u, acct.ID, req)
		return formDone(c, err, func(fe templates.FormErrors) error {
			return render(c, http.StatusUnprocessableEntity, templates.ChannelFormPage(s.channelFormView(c, "Add a channel", acct, nil, req, fe)))
		}, "Added the channel "+ch.Name+". Send a test to check it.", "/alerts/channels")
	})
}

type channelGetter interface {
	Channel(ctx context.Context, actor app.User, account app.AccountID, id app.ChannelID) (app.Channel, error)
}

// channelID parses :id, a channel of the selected account (none selected:
// not found).
func channelID(c echo.Context) (app.Account, app.ChannelID, error) {
	id, err := parseID(c, "id")
	if err != nil {
		return app.Account{}, 0, err
	}
	acct, ok := currentAccount(c)
	if !ok {
		return app.Account{}, 0, fmt.Errorf("channel %d: %w", id, app.ErrNotFound)
	}
	return acct, app.ChannelID(id), nil
}

// channelOfRequest parses :id and loads the channel of the selected account.
func channelOfRequest(c echo.Context, al channelGetter) (app.Account, app.Channel, error) {
	acct, id, err := channelID(c)
	if err != nil {
		return app.Account{}, app.Channel{}, err
	}
	ch, err := al.Channel(c.Request().Context(), mustUser(c), acct.ID, id)
	return acct, ch, err
}

// editChannelPage shows a channel's form (without its secret).
func (s *server) editChannelPage(al channelGetter) echo.HandlerFunc {
	return func(c echo.Context) error {
		acct, ch, err := channelOfRequest(c, al)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, templates.ChannelFormPage(s.channelFormView(c, "Edit "+ch.Name, acct, &ch, app.ChannelRequestOf(ch), nil)))
	}
}

type channelUpdater interface {
	channelGetter
	UpdateChannel(ctx context.Context, actor app.User, account app.AccountID, id app.ChannelID, req app.ChannelRequest) (app.Channel, error)
}

// updateChannel validates and saves an edited channel.
func (s *server) updateChannel(al channelUpdater) echo.HandlerFunc {
	return func(c echo.Context) error {
		acct, old, err := channelOfRequest(c, al)
		if err != nil {
			return err
		}
		u := mustUser(c)
		req, err := channelForm(c)
		if err != nil {
			return err
		}
		ch, err := al.UpdateChannel(c.Request().Context(), u, acct.ID, old.ID, req)
		return formDone(c, err, func(fe templates.FormErrors) error {
			return render(c, http.StatusUnprocessableEntity, templates.ChannelFormPage(s.channelFormView(c, "Edit "+old.Name, acct, &old, req, fe)))
		}, "Saved the channel "+ch.Name+".", "/alerts/channels")
	}
}

// deleteChannelPage asks to confirm removing a channel.
func (s *server) deleteChannelPage(al channelGetter) echo.HandlerFunc {
	return func(c echo.Context) error {
		_, ch, err := channelOfRequest(c, al)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, templates.DeleteChannelPage(templates.DeleteChannelView{
			Meta: s.meta(c, "Remove "+ch.Name, templates.NavAlerts), ID: ch.ID.String(), Name: ch.Name,
		}))
	}
}

type channelDeleter interface {
	DeleteChannel(ctx context.Context, actor app.User, account app.AccountID, id app.ChannelID) error
}

// deleteChannel removes a channel.
func (s *server) deleteChannel(al channelDeleter) echo.HandlerFunc {
	return func(c echo.Context) error {
		acct, id, err := channelID(c)
		if err != nil {
			return err
		}
		if err := al.DeleteChannel(c.Request().Context(), mustUser(c), acct.ID, id); err != nil {
			return err
		}
		return flashAndRedirect(c, templates.FlashSuccess, "The channel was removed.", "/alerts/channels")
	}
}

type channelTester interface {
	SendTest(ctx context.Context, actor app.User, account app.Account, id app.ChannelID) (app.Delivery, error)
}

// testChannel sends a test notice at once and says how it went.
func (s *server) testChannel(al channelTester) echo.HandlerFunc {
	return func(c echo.Context) error {
		acct, id, err := channelID(c)
		if err != nil {
			return err
		}
		d, err := al.SendTest(c.Request().Context(), mustUser(c), acct, id)
		if err != nil {
			return err
		}
		kind, msg := templates.FlashSuccess, "The test was delivered"
		if d.Status != app.DeliverySent {
			kind, msg = templates.FlashError, "The test could not be delivered: "+d.LastError
		} else if d.LastStatus != 0 {
			msg += " (" + strconv.Itoa(d.LastStatus) + ")"
		}
		return flashAndRedirect(c, kind, msg+". See the delivery log.", "/alerts/channels")
	}
}

type deliveryLister interface {
	Deliveries(ctx context.Context, actor app.User, account app.AccountID, id app.ChannelID, before app.DeliveryID, limit int) (app.DeliveryPage, error)
}

// deliveryBadge maps a delivery's status to its badge.
func deliveryBadge(d app.Delivery) templates.Badge {
	switch d.Status {
	case app.DeliverySent:
		return templates.Badge{Word: "Sent", Tone: templates.ToneSuccess}
	case app.DeliveryFailed:
		return templates.Badge{Word: "Failed", Tone: templates.ToneDanger}
	}
	if d.Attempts > 0 {
		return templates.Badge{Word: "Retrying", Tone: templates.ToneWarning}
	}
	return templates.Badge{Word: "Queued", Tone: templates.ToneInfo}
}

// deliveriesPage shows a channel's delivery log, newest first, with
// keyset paging to older entries (?before=ID).
func (s *server) deliveriesPage(al deliveryLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := parseID(c, "id")
		if err != nil {
			return err
		}
		acct, ok := currentAccount(c)
		if !ok {
			return s.pickAccount(c, "Delivery log", "channels")
		}
		var before int64
		if b := c.QueryParam("before"); b != "" {
			// A malformed cursor shows the newest page rather than an error.
			if n, err := strconv.ParseInt(b, 10, 64); err == nil && n > 0 {
				before = n
			}
		}
		u := mustUser(c)
		p, err := al.Deliveries(c.Request().Context(), u, acct.ID, app.ChannelID(id), app.DeliveryID(before), 50)
		if err != nil {
			return err
		}
		now, loc := s.Now(), u.Location()
		v := templates.DeliveriesView{Meta: s.meta(c, "Delivery log of "+p.Channel.Name, templates.NavAlerts), Nav: alertsNav(c, "channels"),
			Channel: p.Channel.Name, Target: p.Channel.Kind.Label() + " · " + p.Channel.Target()}
		for _, d := range p.Deliveries {
			row := templates.DeliveryRow{ID: d.ID.String(), Time: templates.NewTimeView(d.Created, now, loc), Event: string(d.Event),
				Title: d.Title, Badge: deliveryBadge(d), Attempts: strconv.Itoa(d.Attempts), Error: d.LastError, Incident: "—", Code: "—"}
			if d.IncidentID != 0 {
				row.Incident = "#" + d.IncidentID.String()
			}
			if d.LastStatus != 0 {
				row.Code = strconv.Itoa(d.LastStatus)
			}
			if !u.Role.Allows(app.RoleAdmin) && d.Status != app.DeliverySent {
				// Only admins, who choose the targets, see why a delivery
				// failed: "refused" vs "405" vs "timeout" would make the
				// log a port scanner for anyone who can read it.
				row.Code = "—"
				if row.Error != "" {
					row.Error = "Not delivered; an admin can see why."
				}
			}
			if d.Status == app.DeliveryPending && d.Attempts > 0 {
				row.Next = templates.NewTimeView(d.NextAttempt, now, loc)
			}
			v.Rows = append(v.Rows, row)
		}
		if p.HasOlder && len(p.Deliveries) > 0 {
			last := p.Deliveries[len(p.Deliveries)-1].ID
			v.OlderURL = "/alerts/channels/" + p.Channel.ID.String() + "/deliveries?" + url.Values{"before": {last.String()}}.Encode()
		}
		return render(c, http.StatusOK, templates.DeliveriesPage(v))
	}
}

type alertSettingsService interface {
	Settings(ctx context.Context, actor app.User, account app.AccountID) (app.AlertSettings, []app.Channel, error)
	Graces(ctx context.Context, actor app.User, account app.Account) ([]app.GraceRow, []app.AccountProblem, error)
}

// settingsView builds the settings page from the stored settings (or the
// rejected input req when set), with per-row grace errors.
// The grace table is searched and paged by q, after and before in gq (the
// settings page's own query, or the one a grace form came back from).
func (s *server) settingsView(c echo.Context, al alertSettingsService, acct app.Account, req *app.AlertSettingsRequest, errs templates.FormErrors, graceErr map[string]string, graceInput map[string]string, gq url.Values) (templates.AlertSettingsView, error) {
	u := mustUser(c)
	ctx := c.Request().Context()
	st, chans, err := al.Settings(ctx, u, acct.ID)
	if err != nil {
		return templates.AlertSettingsView{}, err
	}
	in := app.AlertSettingsRequest{
		OfflineHours: strconv.Itoa(st.OfflineHours), GrowthFactor: strconv.FormatFloat(st.GrowthFactor, 'g', -1, 64),
		DigestFrequency: string(st.DigestFrequency), DigestHour: strconv.Itoa(st.DigestHour), DigestWeekday: strconv.Itoa(int(st.DigestWeekday)),
	}
	if st.DigestChannel != 0 {
		in.DigestChannel = st.DigestChannel.String()
	}
	if st.HasDefaultGrace {
		in.DefaultGrace = strconv.FormatInt(int64(st.DefaultGrace/time.Minute), 10)
	}
	if req != nil {
		in = *req
	}
	v := templates.AlertSettingsView{
		Meta: s.meta(c, "Alert settings", templates.NavAlerts), Nav: alertsNav(c, "settings"), Account: acct.Name,
		OfflineHours: in.OfflineHours, GrowthFactor: in.GrowthFactor, DigestFrequency: in.DigestFrequency,
		DigestHour: in.DigestHour, DigestWeekday: in.DigestWeekday, DigestChannel: in.DigestChannel, Errors: errs,
		DefaultGrace: in.DefaultGrace, BulkUntil: s.Now().In(u.Location()).Add(24 * time.Hour).Format("2006-01-02T15:04"),
		Channels: []templates.Option{{Value: "", Label: "None", Selected: in.DigestChannel == ""}},
	}
	if st.DigestFrequency != app.DigestOff {
		v.DigestLast = templates.NewTimeView(st.DigestLast, s.Now(), u.Location())
	} else {
		v.DigestLast = templates.TimeView{Rel: "Off"}
	}
	for _, ch := range chans {
		v.Channels = append(v.Channels, templates.Option{Value: ch.ID.String(), Label: ch.Name + " (" + ch.Kind.Label() + ")", Selected: ch.ID.String() == in.DigestChannel})
	}
	rows, probs, err := al.Graces(ctx, u, acct)
	if err != nil {
		return templates.AlertSettingsView{}, err
	}
	if len(probs) > 0 {
		v.Problem = probs[0].Message
	}
	gf, note := parseGraceFilter(gq)
	page := app.PageGraces(rows, gf)
	if page.AnchorLost {
		note = "The page position in the link is not valid; showing the first page."
	}
	v.GraceQuery, v.GraceNote = gf.Query, note
	v.GraceReturn = withQuery("/alerts/settings", graceValues(gf.Query, gq))
	if n := len(page.Rows); n > 0 {
		v.GraceShown = fmt.Sprintf("%s configurations", templates.Count(int64(page.Total)))
		if page.Total > n {
			v.GraceShown = fmt.Sprintf("%s of %s configurations", templates.Count(int64(n)), templates.Count(int64(page.Total)))
		}
		link := func(k string, id rcbu.ConfigurationID) string {
			q := url.Values{}
			if gf.Query != "" {
				q.Set("q", gf.Query)
			}
			q.Set(k, strconv.FormatInt(int64(id), 10))
			return withQuery("/alerts/settings", q)
		}
		if page.HasPrev {
			v.GracePrevHref = link("before", page.Rows[0].Configuration.Configuration.ID)
		}
		if page.HasNext {
			v.GraceNextHref = link("after", page.Rows[n-1].Configuration.Configuration.ID)
		}
	}
	for _, r := range page.Rows {
		cfg := r.Configuration.Configuration
		id := strconv.FormatInt(int64(cfg.ID), 10)
		g := templates.GraceRowView{ID: id, Name: configName(cfg.Name, int64(cfg.ID)), Agent: cfg.MachineName,
			Schedule: "Manual: never overdue", Default: "—"}
		if r.Interval > 0 {
			g.Schedule = words.Every(r.Interval)
			g.Default = templates.Duration(r.DefaultGrace)
		}
		if r.HasGrace {
			g.Minutes = strconv.FormatInt(int64(r.Grace/time.Minute), 10)
		}
		if msg, ok := graceErr[id]; ok {
			g.Error, g.Minutes = msg, graceInput[id]
		}
		v.Graces = append(v.Graces, g)
	}
	return v, nil
}

// maxGraceQueryLen bounds the grace table's search, in characters.
const maxGraceQueryLen = 200

// parseGraceFilter reads the grace table's search and page position. A
// value that cannot be used is ignored, with a note saying so.
func parseGraceFilter(q url.Values) (app.GraceFilter, string) {
	f := app.GraceFilter{Query: strings.TrimSpace(q.Get("q"))}
	note := ""
	if len([]rune(f.Query)) > maxGraceQueryLen {
		f.Query, note = "", fmt.Sprintf("The search is longer than %d characters; it is ignored.", maxGraceQueryLen)
	}
	for _, p := range []struct {
		name string
		dst  *rcbu.ConfigurationID
	}{{"after", &f.After}, {"before", &f.Before}} {
		if raw := q.Get(p.name); raw != "" {
			if n, err := strconv.ParseInt(raw, 10, 64); err == nil && n > 0 {
				*p.dst = rcbu.ConfigurationID(n)
			} else {
				note = "The page position in the link is not valid; showing the first page."
			}
		}
	}
	if f.After != 0 && f.Before != 0 {
		f.Before = 0
	}
	return f, note
}

// graceValues is the search and page position of gq, to come back to.
func graceValues(query string, gq url.Values) url.Values {
	out := url.Values{}
	if query != "" {
		out.Set("q", query)
	}
	for _, k := range []string{"after", "before"} {
		if v := gq.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// renderSettings renders the settings page with status: 200, or 422 with a
// form's problems.
func (s *server) renderSettings(c echo.Context, status int, al alertSettingsService, acct app.Account, req *app.AlertSettingsRequest, errs templates.FormErrors, graceErr, graceInput map[string]string, gq url.Values) error {
	v, err := s.settingsView(c, al, acct, req, errs, graceErr, graceInput, gq)
	if err != nil {
		return err
	}
	return render(c, status, templates.AlertSettingsPage(v))
}

// alertSettingsPage shows the thresholds, the digest and the grace table.
func (s *server) alertSettingsPage(al alertSettingsService) echo.HandlerFunc {
	return s.perAccount("Alert settings", "settings", func(c echo.Context, acct app.Account) error {
		return s.renderSettings(c, http.StatusOK, al, acct, nil, nil, nil, nil, c.QueryParams())
	})
}

type alertSettingsUpdater interface {
	alertSettingsService
	UpdateSettings(ctx context.Context, actor app.User, account app.AccountID, req app.AlertSettingsRequest) (app.AlertSettings, error)
}

// updateAlertSettings saves the thresholds and the digest schedule.
func (s *server) updateAlertSettings(al alertSettingsUpdater) echo.HandlerFunc {
	return s.perAccount("Alert settings", "settings", func(c echo.Context, acct app.Account) error {
		u := mustUser(c)
		req := app.AlertSettingsRequest{
			OfflineHours: c.FormValue("offline_hours"), GrowthFactor: c.FormValue("growth_factor"),
			DigestFrequency: c.FormValue("digest_frequency"), DigestHour: c.FormValue("digest_hour"),
			DigestWeekday: c.FormValue("digest_weekday"), DigestChannel: c.FormValue("digest_channel"),
			DefaultGrace: c.FormValue("default_grace"),
		}
		_, err := al.UpdateSettings(c.Request().Context(), u, acct.ID, req)
		return formDone(c, err, func(fe templates.FormErrors) error {
			return s.renderSettings(c, http.StatusUnprocessableEntity, al, acct, &req, fe, nil, nil, url.Values{})
		}, "Saved the alert settings.", "/alerts/settings")
	})
}

// settingsReturn is the settings page a grace form came from (its search
// and page position, to come back to) and that page's query.
func settingsReturn(raw string) (string, url.Values) {
	back := localPath(raw)
	if !strings.HasPrefix(back, "/alerts/settings") {
		back = "/alerts/settings"
	}
	var gq url.Values
	if bu, err := url.Parse(back); err == nil {
		gq = bu.Query()
	}
	return back, gq
}

type graceSetter interface {
	alertSettingsService
	SetGrace(ctx context.Context, actor app.User, account app.Account, cfg rcbu.ConfigurationID, minutes string) error
}

// setOverdueGrace sets or clears one configuration's own grace.
func (s *server) setOverdueGrace(al graceSetter) echo.HandlerFunc {
	return s.perAccount("Alert settings", "settings", func(c echo.Context, acct app.Account) error {
		u := mustUser(c)
		cfgParam := c.FormValue("config")
		cfg, err := strconv.ParseInt(cfgParam, 10, 64)
		if err != nil || cfg <= 0 {
			return fmt.Errorf("configuration %q: %w", cfgParam, app.ErrNotFound)
		}
		minutes := c.FormValue("grace")
		back, gq := settingsReturn(c.FormValue("return"))
		err = al.SetGrace(c.Request().Context(), u, acct, rcbu.ConfigurationID(cfg), minutes)
		if fe, ok := formErrors(err); ok {
			id := strconv.FormatInt(cfg, 10)
			return s.renderSettings(c, http.StatusUnprocessableEntity, al, acct, nil, nil, map[string]string{id: fe["grace"]}, map[string]string{id: minutes}, gq)
		}
		if err != nil {
			return err
		}
		msg := "Saved the overdue grace."
		if strings.TrimSpace(minutes) == "" {
			msg = "The configuration uses the default grace again."
		}
		return flashAndRedirect(c, templates.FlashSuccess, msg, back)
	})
}

type digestSender interface {
	alertSettingsService
	SendDigestNow(ctx context.Context, actor app.User, account app.Account) (app.Delivery, error)
}

// sendDigestNow queues the digest over the last period to its channel.
func (s *server) sendDigestNow(al digestSender) echo.HandlerFunc {
	return s.perAccount("Alert settings", "settings", func(c echo.Context, acct app.Account) error {
		u := mustUser(c)
		_, err := al.SendDigestNow(c.Request().Context(), u, acct)
		return formDone(c, err, func(fe templates.FormErrors) error {
			return s.renderSettings(c, http.StatusUnprocessableEntity, al, acct, nil, fe, nil, nil, url.Values{})
		}, "The digest is on its way; its delivery shows in the channel's delivery log.", "/alerts/settings")
	})
}

type bulkEditor interface {
	alertSettingsService
	BulkEdit(ctx context.Context, actor app.User, account app.Account, loc *time.Location, req app.BulkGraceRequest) (int, error)
}

// bulkEdit applies one grace, the default or a snooze to the configurations
// selected in the settings table; a refusal is said above the table.
func (s *server) bulkEdit(al bulkEditor) echo.HandlerFunc {
	return s.perAccount("Alert settings", "settings", func(c echo.Context, acct app.Account) error {
		u := mustUser(c)
		form, err := c.FormParams()
		if err != nil {
			return fmt.Errorf("bulk edit: %w", app.Invalid("configs", "The form could not be read."))
		}
		back, gq := settingsReturn(form.Get("return"))
		req := app.BulkGraceRequest{Configs: form["config"], Action: form.Get("action"), Minutes: form.Get("minutes"),
			Until: form.Get("until"), Reason: form.Get("reason")}
		n, err := al.BulkEdit(c.Request().Context(), u, acct, u.Location(), req)
		if fe, ok := formErrors(err); ok {
			v, verr := s.settingsView(c, al, acct, nil, nil, nil, nil, gq)
			if verr != nil {
				return verr
			}
			v.BulkErrors, v.BulkAction, v.BulkMinutes, v.BulkReason = fe, req.Action, req.Minutes, req.Reason
			if req.Until != "" {
				v.BulkUntil = req.Until
			}
			for i := range v.Graces {
				v.Graces[i].Selected = slices.Contains(req.Configs, v.Graces[i].ID)
			}
			return render(c, http.StatusUnprocessableEntity, templates.AlertSettingsPage(v))
		}
		if err != nil {
			return err
		}
		what := map[string]string{"grace": "Set the overdue grace of", "default": "Back to the default grace:", "snooze": "Snoozed"}[req.Action]
		return flashAndRedirect(c, templates.FlashSuccess, fmt.Sprintf("%s %s %s.", what, templates.Count(int64(n)),
			templates.Plural(int64(n), "configuration", "configurations")), back)
	})
}
