package events

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
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// SignatureHeader carries the hex HMAC-SHA256 of a webhook body under
// FHIRFACADE_EVENT_WEBHOOK_SECRET, as "sha256=<hex>".
const SignatureHeader = "X-Fhirfacade-Signature"

// Sign is the SignatureHeader value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// webhook posts events to an HTTP endpoint: CloudEvents in the HTTP
// binding's structured mode (one application/cloudevents+json event per
// request), or Event Grid's JSON array of events. Before the first
// delivery it runs the endpoint's validation handshake: the CloudEvents
// webhook spec's OPTIONS request (WebHook-Request-Origin must be allowed
// by WebHook-Allowed-Origin), or Event Grid's SubscriptionValidationEvent
// (the answer must echo the validation code).
type webhook struct {
	url, origin string
	secret      []byte
	src         Source
	schema      Schema
	client      *http.Client

	mu        sync.Mutex
	validated bool
}

func newWebhook(raw string, c Config) (Sink, error) {
	return &webhook{url: raw, origin: c.Source.Account, secret: []byte(c.WebhookSecret), src: c.Source, schema: c.Schema,
		client: &http.Client{Timeout: 30 * time.Second}}, nil
}

func (w *webhook) Name() string { return redactURL(w.url) }
func (w *webhook) Close() error { w.client.CloseIdleConnections(); return nil }

// Publish implements Sink.
func (w *webhook) Publish(ctx context.Context, evs []Event) (int, error) {
	if err := w.validate(ctx); err != nil {
		return 0, err
	}
	if w.schema == EventGrid {
		body, err := w.src.EncodeBatch(EventGrid, evs)
		if err != nil {
			return 0, err
		}
		if err := w.post(ctx, "application/json", body); err != nil {
			return 0, err
		}
		return len(evs), nil
	}
	for i, e := range evs {
		body, err := w.src.Encode(CloudEvents, e)
		if err != nil {
			return i, err
		}
		if err := w.post(ctx, "application/cloudevents+json; charset=utf-8", body); err != nil {
			return i, err
		}
	}
	return len(evs), nil
}

func (w *webhook) post(ctx context.Context, ctype string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	if len(w.secret) > 0 {
		req.Header.Set(SignatureHeader, Sign(w.secret, body))
	}
	if w.schema == EventGrid {
		req.Header.Set("aeg-event-type", "Notification")
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return sinkUnavailable(fmt.Errorf("webhook %s: %w", w.Name(), bareErr(err)))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return byStatus(resp.StatusCode, fmt.Errorf("webhook %s answered %s", w.Name(), resp.Status))
	}
	return nil
}

// validate runs the handshake once per process.
func (w *webhook) validate(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.validated {
		return nil
	}
	var err error
	if w.schema == EventGrid {
		err = w.validateGrid(ctx)
	} else {
		err = w.validateCE(ctx)
	}
	w.validated = err == nil
	return err
}

// validateCE is the CloudEvents webhook spec's abuse protection handshake.
func (w *webhook) validateCE(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, w.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("WebHook-Request-Origin", w.origin)
	resp, err := w.client.Do(req)
	if err != nil {
		return sinkUnavailable(fmt.Errorf("webhook %s: validation: %w", w.Name(), bareErr(err)))
	}
	resp.Body.Close()
	allowed := resp.Header.Get("WebHook-Allowed-Origin")
	if resp.StatusCode/100 != 2 || (allowed != "*" && !strings.EqualFold(allowed, w.origin)) {
		return byStatus(resp.StatusCode, fmt.Errorf("webhook %s: validation refused (status %s, WebHook-Allowed-Origin %q; want %q or *)", w.Name(), resp.Status, allowed, w.origin))
	}
	return nil
}

// validateGrid is Event Grid's subscription validation handshake.
func (w *webhook) validateGrid(ctx context.Context) error {
	code := uuid.NewString()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	body, _ := json.Marshal([]map[string]any{{
		"id": uuid.NewString(), "topic": w.src.Topic, "subject": "", "eventTime": now, "dataVersion": "1", "metadataVersion": "1",
		"eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
		"data":      map[string]string{"validationCode": code},
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("aeg-event-type", "SubscriptionValidation")
	resp, err := w.client.Do(req)
	if err != nil {
		return sinkUnavailable(fmt.Errorf("webhook %s: validation: %w", w.Name(), bareErr(err)))
	}
	defer resp.Body.Close()
	var ans struct {
		ValidationResponse string `json:"validationResponse"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&ans)
	if resp.StatusCode/100 != 2 || ans.ValidationResponse != code {
		return byStatus(resp.StatusCode, fmt.Errorf("webhook %s: subscription validation failed (status %s; the answer must echo validationCode)", w.Name(), resp.Status))
	}
	return nil
}

// bareErr is err without the URL net/http puts in it: a webhook's query
// often carries its key (Azure Functions' code=, Logic Apps' sig=), and
// these errors reach logs and the control store. w.Name() says which
// sink, redacted.
func bareErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
