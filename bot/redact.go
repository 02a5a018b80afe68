// Redaction: the bot token and interaction tokens never reach a log line
// or an error shown to anyone.

package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// setToken remembers the bot token, to redact it.
func (b *Bot) setToken(token string) {
	t := strings.TrimSpace(strings.TrimPrefix(token, "Bot "))
	b.token.Store(&t)
}

// secret is the bot token to redact, or "" when none is worth redacting.
func (b *Bot) secret() string {
	t := b.token.Load()
	if t == nil || len(*t) < minSecretLen {
		return ""
	}
	return *t
}

// minSecretLen keeps redaction from mangling logs when a test or a broken
// config has a token of a few characters. Real tokens are ~70.
const minSecretLen = 8

// redact keeps the interaction token, which lets anyone post as the bot
// for 15 minutes, and the bot token out of errors before they are logged:
// net/http errors quote the webhook URL that carries the former, and
// discordgo's rate-limit errors do too.
func (c *call) redact(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = fmt.Errorf("%s %s: %w", uerr.Op, redactToken(uerr.URL, c.i.Token), uerr.Err)
	}
	if c.i.Token != "" && strings.Contains(err.Error(), c.i.Token) {
		err = &redactedError{msg: redactToken(err.Error(), c.i.Token), err: err}
	}
	return c.b.redactErr(err)
}

// redactString is redact for text, such as a panic value.
func (c *call) redactString(s string) string {
	return redactToken(redactToken(s, c.i.Token), c.b.secret())
}

func redactToken(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<redacted>")
}

// redactingHandler keeps the bot token out of every log record, whatever
// logged it: one choke point rather than care at every call site. It
// redacts the message and string, error and Stringer values, in groups
// too; other values are logged as they are.
type redactingHandler struct {
	inner  slog.Handler
	secret func() string
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	secret := h.secret()
	if secret == "" {
		return h.inner.Handle(ctx, r)
	}
	nr := slog.NewRecord(r.Time, r.Level, redactToken(r.Message, secret), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(redactAttr(a, secret))
		return true
	})
	if err := h.inner.Handle(ctx, nr); err != nil {
		return fmt.Errorf("bot: log: %w", err)
	}
	return nil
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if secret := h.secret(); secret != "" {
		red := make([]slog.Attr, len(attrs))
		for i, a := range attrs {
			red[i] = redactAttr(a, secret)
		}
		attrs = red
	}
	return &redactingHandler{inner: h.inner.WithAttrs(attrs), secret: h.secret}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{inner: h.inner.WithGroup(name), secret: h.secret}
}

func redactAttr(a slog.Attr, secret string) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redactToken(v.String(), secret))
	case slog.KindGroup:
		group := v.Group()
		red := make([]any, len(group))
		for i, g := range group {
			red[i] = redactAttr(g, secret)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, redactToken(x.Error(), secret))
		case fmt.Stringer:
			return slog.String(a.Key, redactToken(x.String(), secret))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// redactErr keeps the bot token out of err's text. discordgo's errors do
// not carry it; this is the belt to that pair of braces.
func (b *Bot) redactErr(err error) error {
	secret := b.secret()
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{msg: redactToken(err.Error(), secret), err: err}
}

// redactedError is err with its text redacted; errors.Is and As still see
// err, which is never printed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
