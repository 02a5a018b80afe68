// Session hardening: what Run changes on the discordgo session so it never
// prints the token and stops reconnecting once the token is rejected.

package bot

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// secureSession readies s for Run. discordgo's debug output prints the
// Authorization header and the IDENTIFY payload, both with the token, and
// its informational level prints URLs carrying interaction tokens: Run
// turns both off. It also puts a guard in s's HTTP client and websocket
// dialer that refuses every connection once the token is rejected: that
// is the only way to stop discordgo's reconnect loop, which does not look
// at ShouldReconnectOnError once started and retries forever.
func (b *Bot) secureSession(s *discordgo.Session) {
	s.Identify.Intents = discordgo.IntentsNone
	s.Debug = false
	if s.LogLevel > discordgo.LogWarning {
		s.LogLevel = discordgo.LogWarning
	}

	client := &http.Client{}
	if s.Client != nil {
		c := *s.Client
		client = &c
	}
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	client.Transport = &guardTransport{base: base, b: b}
	s.Client = client

	dialer := *websocket.DefaultDialer
	if s.Dialer != nil {
		dialer = *s.Dialer
	}
	dial := dialer.NetDialContext
	if dial == nil && dialer.NetDial != nil {
		netDial := dialer.NetDial
		dial = func(_ context.Context, network, addr string) (net.Conn, error) { return netDial(network, addr) }
	}
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	dialer.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if err := b.Err(); err != nil {
			return nil, fmt.Errorf("bot: not connecting: %w", err)
		}
		return dial(ctx, network, addr)
	}
	if tlsDial := dialer.NetDialTLSContext; tlsDial != nil {
		dialer.NetDialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := b.Err(); err != nil {
				return nil, fmt.Errorf("bot: not connecting: %w", err)
			}
			return tlsDial(ctx, network, addr)
		}
	}
	s.Dialer = &dialer
}

// guardTransport refuses requests once the bot token is rejected.
type guardTransport struct {
	base http.RoundTripper
	b    *Bot
}

func (t *guardTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.b.Err(); err != nil {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, fmt.Errorf("bot: not sending: %w", err)
	}
	return t.base.RoundTrip(r)
}

// stopSession closes s. It leaves ShouldReconnectOnError alone: discordgo
// reads it without the lock as a connection drops, so writing it races,
// and it would not stop a reconnect loop already running. The guard in
// secureSession does: after a rejected token, every reconnect is refused
// before it reaches Discord.
func stopSession(s *discordgo.Session) {
	_ = s.Close()
}
