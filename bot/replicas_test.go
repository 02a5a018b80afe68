package bot_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"storybot/app"
	"storybot/bot"
	"storybot/bot/discordtest"
	"storybot/retrieval"
	"storybot/storage"
)

// pgProxy stands between the bots and PostgreSQL, so a test can cut the
// database off (every connection dropped, new ones refused) and bring it
// back, as a network failure or a database restart would.
type pgProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *pgProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(up, c); up.Close() }()
		go func() { defer p.wg.Done(); io.Copy(c, up); c.Close() }()
	}
}

// cut drops every connection and refuses new ones until restore.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *pgProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// through rewrites connURL to reach the database through p.
func (p *pgProxy) through(t *testing.T, connURL string) string {
	u, err := url.Parse(connURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

// TestTwoReplicasShareOnePostgres runs two bots, A and B, each behind its
// own fake Discord, on one PostgreSQL database, as two replicas would: a
// vote on A's answer clicked through B counts once (a repeat through A is
// recognised), the rate limit holds across both, and cutting the database
// off mid-run loses no answer (every question is answered at once, and
// logged once the database is back).
func TestTwoReplicasShareOnePostgres(t *testing.T) {
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skip(postgresEnv + " is not set (a postgres:// URL of a database the tests may create schemas in); .ci/run sets it")
	}
	direct := testSchema(t, base)
	u, _ := url.Parse(direct)
	proxy := newPGProxy(t, u.Host)
	connURL := proxy.through(t, direct)
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	replica := func() (*env, *storage.DB) {
		db, err := storage.OpenPostgres(context.Background(), connURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		mem := memoryOn(t, db)
		// A day's window, so that the test does not straddle two.
		mem.Questions = &storage.Limiter{Store: db, Limit: 3, Window: 24 * time.Hour}
		return start(t, bot.Config{Library: lib, Memory: mem}), db
	}
	a, db := replica()
	b, _ := replica()

	// A vote on A's answer, through B, then again through A.
	first := a.ask("When did the Harbor Bridge reopen?", member)
	m, _ := a.final(first)
	down := buttonWithPrefix(t, m, "fb:down:")
	if _, cb := b.callback(b.dispatch(b.f.Button(down, m, member))); !strings.Contains(cb.Data.Content, "Thanks") {
		t.Errorf("👎 through B: %q", cb.Data.Content)
	}
	if _, cb := a.callback(a.dispatch(a.f.Button(down, m, member))); !strings.Contains(cb.Data.Content, "already rated") {
		t.Errorf("the same 👎 through A: %q, want it recognised", cb.Data.Content)
	}
	res, err := db.Vote(context.Background(), storage.Vote{AnswerID: first.ID(), User: "probe", Up: true, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Down != 1 {
		t.Errorf("%d 👎 stored, want 1", res.Down)
	}

	// The shared limit: 3 a day for this user, on A and B together.
	asker := discordtest.Caller{GuildID: guild, UserID: "5005", Username: "asker"}
	for i, e := range []*env{a, b, a, b} {
		_, cb := e.callback(e.ask("Who is the city engineer?", asker))
		limited := strings.Contains(cb.Data.Content, "faster than I can keep up")
		if limited != (i == 3) {
			t.Errorf("question %d (replica %c): rate limited %v, want %v", i+1, "ABAB"[i], limited, i == 3)
		}
	}

	// The database goes away mid-run; the bots keep answering.
	proxy.cut()
	var asked []string
	for i := range 4 {
		e := []*env{a, b}[i%2]
		c := discordtest.Caller{GuildID: guild, UserID: "600" + string(rune('0'+i)), Username: "reader"}
		start := time.Now()
		p := e.ask("When did the Harbor Bridge reopen?", c)
		msg, _ := e.final(p)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("answering with the database down took %v", took)
		}
		if !strings.Contains(answerEmbed(t, msg).Description, "Monday") {
			t.Errorf("answer with the database down: %q", answerEmbed(t, msg).Description)
		}
		asked = append(asked, p.ID())
	}
	time.Sleep(time.Second) // the outage lasts a while: not synchronisation
	proxy.restore()
	ctx := waitCtx(t)
	for _, id := range asked {
		for {
			_, err := db.Answer(ctx, id)
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("answer %s asked during the outage never reached the database: %v", id, err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	in := waitRows(t, db, 1+3+4)
	if in.Total() != 8 {
		t.Errorf("%d questions logged, want 8 (1 + 3 allowed + 4 during the outage)", in.Total())
	}
}

// TestReloadReachesEveryReplica: a /reload on A reloads B too, through
// PostgreSQL's LISTEN/NOTIFY: B serves the new index within 2 s, and A's
// reply names B's result and index version.
func TestReloadReachesEveryReplica(t *testing.T) {
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skip(postgresEnv + " is not set (a postgres:// URL of a database the tests may create schemas in); .ci/run sets it")
	}
	connURL := testSchema(t, base)
	dir := writeStories(t)
	type replica struct {
		e    *env
		lib  *retrieval.Library
		reps *app.Replicas
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	newReplica := func() replica {
		db, err := storage.OpenPostgres(context.Background(), connURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		lib := folderLibrary(t, dir, &countingEmbedder{})
		reload := reloadFrom(lib, dir)
		reps := app.NewReplicas(db, func(ctx context.Context, _ string) (retrieval.ReloadReport, error) { return reload(ctx) },
			func() string { return lib.Current().Version() }, slog.New(slog.DiscardHandler))
		ready := make(chan struct{})
		wg.Add(1)
		go func() { defer wg.Done(); reps.Run(ctx, ready) }()
		select {
		case <-ready:
		case <-waitCtx(t).Done():
			t.Fatal("replica never listened")
		}
		others := func(ctx context.Context) ([]bot.ReplicaReload, error) {
			res, err := reps.ReloadOthers(ctx, app.DefaultCollect)
			var out []bot.ReplicaReload
			for _, r := range res {
				out = append(out, bot.ReplicaReload{Replica: r.Replica, Version: r.Version, Err: r.Err})
			}
			return out, err
		}
		e := start(t, bot.Config{Library: lib, Reload: reload, ReloadReplicas: others})
		return replica{e, lib, reps}
	}
	a, b := newReplica(), newReplica()
	before := b.lib.Current().Version()

	story := "---\nid: delta\ntitle: Ferry service resumes\npublisher: Bay Times\nyear: 2025\n---\nThe ferry to Gull Island resumed service on Friday with two new boats.\n"
	if err := os.WriteFile(filepath.Join(dir, "delta.md"), []byte(story), 0o644); err != nil {
		t.Fatal(err)
	}
	p := a.e.dispatch(a.e.f.SlashCommand("reload", nil, moderator))
	asked := time.Now()
	for b.lib.Current().Version() == before {
		if time.Since(asked) > 2*time.Second {
			t.Fatalf("B still serves %s 2 s after the /reload on A", before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("B serves the new index %v after the /reload on A", time.Since(asked).Round(time.Millisecond))
	m, _ := b.e.final(b.e.ask("When did the ferry to Gull Island resume service?", member))
	if !strings.Contains(answerEmbed(t, m).Description, "Friday") {
		t.Errorf("B after the reload: %q", answerEmbed(t, m).Description)
	}
	reply, _ := a.e.final(p)
	if !strings.Contains(reply.Content, "1 other replica") || !strings.Contains(reply.Content, b.reps.ID) ||
		!strings.Contains(reply.Content, b.lib.Current().Version()) {
		t.Errorf("A's reply does not report B's reload: %q", reply.Content)
	}
}
