package discordtest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot/discordtest"
)

func TestHeartbeatsAcked(t *testing.T) {
	t.Parallel()
	// Short, but not so short that a loaded -race run misses 5 in a row
	// and discordgo reconnects.
	f := discordtest.New(t, discordtest.Config{HeartbeatInterval: 50 * time.Millisecond})
	s, _ := openSession(t, f)
	st, err := f.WaitGateway(waitCtx(t), func(s discordtest.GatewayStats) bool { return s.HeartbeatAcks >= 3 })
	if err != nil {
		t.Fatal(err)
	}
	if st.Heartbeats < st.HeartbeatAcks {
		t.Errorf("stats = %+v", st)
	}
	s.RLock()
	acked := s.LastHeartbeatAck
	s.RUnlock()
	if acked.IsZero() {
		t.Error("discordgo saw no heartbeat ACK")
	}
}

// gatewayDrop checks that a session that loses its gateway comes back,
// resuming when the session survives, and still receives interactions.
func TestGatewayDropsAndComesBack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		hb    time.Duration // heartbeat interval; 0 is Discord's 41.25s
		drop  func(f *discordtest.Fake) int
		until func(discordtest.GatewayStats) bool
		check func(t *testing.T, f *discordtest.Fake, st discordtest.GatewayStats)
	}{
		{
			name: "close 4000 resumes",
			drop: func(f *discordtest.Fake) int { return f.CloseGateway(4000) },
			until: func(s discordtest.GatewayStats) bool {
				return s.Resumed == 1 && s.Settled == 1 && s.Open == 1
			},
			check: resumedSameSession,
		},
		{
			name: "op 7 reconnect resumes",
			drop: func(f *discordtest.Fake) int { return f.SendReconnect() },
			until: func(s discordtest.GatewayStats) bool {
				return s.Resumed == 1 && s.Settled == 1 && s.Open == 1
			},
			check: resumedSameSession,
		},
		{
			name: "op 9 identifies again on the same connection",
			drop: func(f *discordtest.Fake) int { return f.SendInvalidSession(false) },
			until: func(s discordtest.GatewayStats) bool {
				return s.Identifies == 2 && s.Readies == 2 && s.Settled == 1
			},
			check: func(t *testing.T, f *discordtest.Fake, st discordtest.GatewayStats) {
				if st.Connections != 1 || st.Resumes != 0 {
					t.Errorf("stats = %+v", st)
				}
			},
		},
		{
			name: "close 4009 session timeout: resume refused, identify",
			drop: func(f *discordtest.Fake) int { return f.CloseGateway(4009) },
			until: func(s discordtest.GatewayStats) bool {
				return s.Identifies == 2 && s.Settled == 1 && s.Open == 1
			},
			check: resumeRefused,
		},
		{
			name: "missing heartbeat ACKs: discordgo closes with 1000, resume refused, identify",
			hb:   100 * time.Millisecond,
			drop: func(f *discordtest.Fake) int { return f.StopHeartbeatAcks() },
			until: func(s discordtest.GatewayStats) bool {
				return s.Identifies >= 2 && s.Settled == 1 && s.Open == 1
			},
			check: resumeRefused,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := discordtest.New(t, discordtest.Config{HeartbeatInterval: tc.hb})
			_, got := openSession(t, f)
			if n := tc.drop(f); n != 1 {
				t.Fatalf("fault hit %d connections", n)
			}
			st, err := f.WaitGateway(waitCtx(t), tc.until)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, f, st)
			p := f.SlashCommand("ask", nil, discordtest.Caller{GuildID: "1"})
			if err := f.DispatchInteraction(p); err != nil {
				t.Fatal(err)
			}
			if i := recv(t, got, "interaction after reconnect"); i.ID != p.ID() {
				t.Errorf("got interaction %s, want %s", i.ID, p.ID())
			}
			// discordgo caches the gateway URL: reconnects dial it
			// again without GET /gateway (and ignore resume_gateway_url).
			n := 0
			for _, r := range f.Requests() {
				if r.Route == discordtest.RouteGateway {
					n++
				}
			}
			if n != 1 {
				t.Errorf("GET /gateway %d times", n)
			}
		})
	}
}

func resumedSameSession(t *testing.T, f *discordtest.Fake, st discordtest.GatewayStats) {
	t.Helper()
	if st.Identifies != 1 || st.Resumes != 1 || st.Connections != 2 {
		t.Errorf("stats = %+v", st)
	}
	rs := f.Resumes()
	if len(rs) != 1 || !rs[0].Known || rs[0].Seq < 1 || rs[0].Token != "Bot test-token" {
		t.Errorf("resumes = %+v", rs)
	}
}

func resumeRefused(t *testing.T, f *discordtest.Fake, st discordtest.GatewayStats) {
	t.Helper()
	rs := f.Resumes()
	if len(rs) == 0 || rs[0].Known || st.InvalidSessions < 1 || st.Connections < 2 {
		t.Errorf("stats = %+v resumes = %+v", st, rs)
	}
}

func TestSequenceIncreases(t *testing.T) {
	t.Parallel()
	f := discordtest.New(t, discordtest.Config{})
	s, got := openSession(t, f)
	seqs := make(chan int64, 16)
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) {
		if e.Type == "INTERACTION_CREATE" {
			seqs <- e.Sequence
		}
	})
	for range 3 {
		if err := f.DispatchInteraction(f.SlashCommand("ask", nil, discordtest.Caller{})); err != nil {
			t.Fatal(err)
		}
		recv(t, got, "interaction")
	}
	// Handlers run on their own goroutines, so arrival order is loose.
	var got3 []int64
	for range 3 {
		got3 = append(got3, recv(t, seqs, "sequence"))
	}
	slices.Sort(got3)
	if !slices.Equal(got3, []int64{2, 3, 4}) { // READY was 1
		t.Errorf("sequences = %v, want 2 3 4", got3)
	}
}
