package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/rcbu-console/rcbu-console/app"
)

// slackSender delivers to a Slack-compatible incoming webhook: a JSON body
// with "text" (what notifications and older clients show) and blocks.
type slackSender struct {
	url    string // Slack's secret URL, opened from the sealed secret
	client *http.Client
}

// slackMessage is the incoming-webhook body.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks,omitempty"`
}

type slackBlock struct {
	Type string     `json:"type"`
	Text *slackText `json:"text,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// SlackMessage returns the incoming-webhook body for a notice.
func SlackMessage(n app.Notice) ([]byte, error) {
	title := n.Subject()
	body := n.Body()
	msg := slackMessage{
		Text: slackEscape(title),
		Blocks: []slackBlock{
			{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(title, 150)}},
			{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(slackEscape(body), 3000)}},
		},
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("slack: encode: %w", err)
	}
	return b, nil
}

func (s slackSender) Send(ctx context.Context, _ app.DeliveryID, n app.Notice) (int, error) {
	body, err := SlackMessage(n)
	if err != nil {
		return 0, err
	}
	return postJSON(ctx, s.client, s.url, body, nil)
}
