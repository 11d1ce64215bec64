package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// Webhook headers. The signature is HMAC-SHA256 over the exact request
// body with the channel's secret; the body carries sent_at, the same
// instant as the timestamp header, so a receiver can refuse replays of old
// deliveries and still check a single signature.
const (
	HeaderSignature = "X-RCBU-Signature" // "sha256=<hex>"
	HeaderTimestamp = "X-RCBU-Timestamp" // unix seconds
	HeaderEvent     = "X-RCBU-Event"     // alert.opened, alert.resolved, test, digest
	HeaderDelivery  = "X-RCBU-Delivery"  // the delivery id: the same on every retry, for idempotent receivers
)

// SignWebhook returns the X-RCBU-Signature value for body under key.
func SignWebhook(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook reports whether header is a valid signature of body under
// key, comparing in constant time.
func VerifyWebhook(key, body []byte, header string) bool {
	return hmac.Equal([]byte(SignWebhook(key, body)), []byte(header))
}

// WebhookPayload is the JSON body a webhook channel receives: the notice,
// the delivery id and when this attempt was sent.
type WebhookPayload struct {
	app.Notice
	DeliveryID app.DeliveryID `json:"delivery_id"`
	SentAt     int64          `json:"sent_at"`
}

// maxReplyBody bounds how much of a receiver's reply is read (and dropped).
const maxReplyBody = 64 << 10

// webhookSender delivers to a generic JSON webhook.
type webhookSender struct {
	url    string
	key    []byte
	client *http.Client
	now    func() time.Time
}

func (w webhookSender) Send(ctx context.Context, id app.DeliveryID, n app.Notice) (int, error) {
	ts := w.now().UTC()
	body, err := json.Marshal(WebhookPayload{Notice: n, DeliveryID: id, SentAt: ts.Unix()})
	if err != nil {
		return 0, fmt.Errorf("webhook: encode: %w", err)
	}
	return postJSON(ctx, w.client, w.url, body, func(h http.Header) {
		h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		h.Set(HeaderSignature, SignWebhook(w.key, body))
		h.Set(HeaderEvent, string(n.Event))
		h.Set(HeaderDelivery, id.String())
	})
}

// postJSON POSTs body and treats any 2xx as delivered. Errors never carry
// the URL, which may hold a secret (Slack's does).
func postJSON(ctx context.Context, client *http.Client, target string, body []byte, headers func(http.Header)) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("post: malformed URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rcbu-console-alerts")
	if headers != nil {
		headers(req.Header)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, transportError(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxReplyBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("post: the receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// transportError drops the URL from an HTTP client error.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return errors.New("post: the receiver did not answer in time")
		}
		return fmt.Errorf("post: %w", ue.Err)
	}
	return fmt.Errorf("post: %w", err)
}
