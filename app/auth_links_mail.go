package app

import (
	"context"
	"fmt"
	"time"
)

// EventUserLink is the notice event of an email carrying a one-time link.
const EventUserLink NoticeEvent = "user.link"

// linkMailTimeout bounds sending a link by email: the admin waits for it.
const linkMailTimeout = 15 * time.Second

// MailUser sends subject and text to one address through the first enabled
// email channel of the accounts (in the order the accounts are listed), for
// one-time links; it implements LinkMailer. With no email channel it sends
// nothing and returns "" and no error. The channel's own recipients are
// not written to.
func (a *Alerts) MailUser(ctx context.Context, to, subject, text string) (string, error) {
	accounts, err := a.accounts.List(ctx)
	if err != nil {
		return "", fmt.Errorf("mail user: %w", err)
	}
	for _, acct := range accounts {
		channels, err := a.store.ListChannels(ctx, acct.ID)
		if err != nil {
			return "", fmt.Errorf("mail user: %w", err)
		}
		for _, c := range channels {
			if c.Kind != ChannelEmail || !c.Enabled {
				continue
			}
			c.SMTP.To = []string{to}
			s, err := a.sender(c)
			if err != nil {
				return "", fmt.Errorf("mail user through %q: %w", c.Name, err)
			}
			ctx, cancel := context.WithTimeout(ctx, linkMailTimeout)
			defer cancel()
			n := Notice{Event: EventUserLink, Title: subject, Text: text}
			if _, err := s.Send(ctx, 0, n); err != nil {
				return "", fmt.Errorf("mail user through %q: %w", c.Name, err)
			}
			return c.Name, nil
		}
	}
	return "", nil
}
