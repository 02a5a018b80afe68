package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/app"
	"storybot/bot"
	"storybot/config"
	"storybot/metrics"
	"storybot/retrieval"
	"storybot/storage"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("serve", stderr)
	cfgPath := fs.String("config", "", configFlagUsage)
	httpAddr := fs.String("http", "", "receive interactions over HTTP on this address (e.g. :8080) instead of the gateway")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: storybot serve [--config FILE] [--http ADDR]\n\nConnects to Discord and answers /ask, /sources and /reload.\nThe token comes from DISCORD_TOKEN or discord.token_file.\n\n")
		fs.PrintDefaults()
	}
	if done, err := parseNoArgs(fs, args); done || err != nil {
		return err
	}
	cfg, err := config.Load(configPath(*cfgPath, getenv), getenv)
	if err != nil {
		return err
	}
	if *httpAddr != "" {
		cfg.HTTP.InteractionsAddr = *httpAddr
		if err := cfg.Validate(); err != nil {
			return err
		}
	}
	token, err := cfg.Token(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))
	return serve(ctx, cfg, stderr, log, getenv, func() (*discordgo.Session, error) { return discordgo.New("Bot " + token) })
}

// serve runs the bot until ctx ends. newSession makes the Discord session
// (tests point it at a fake Discord); the token never passes through here.
// getenv reads the storage salt (STORYBOT_STORAGE_SALT). Start-up indexing
// shows a bar on bar when it is a terminal, else log lines (bar may be nil).
func serve(ctx context.Context, cfg *config.Config, bar io.Writer, log *slog.Logger, getenv func(string) string, newSession func() (*discordgo.Session, error)) error {
	m := metrics.New()
	// Everything serve starts ends with this, even when serve returns
	// early; the goroutines are waited for below.
	ctx, stopServing := context.WithCancel(ctx)
	defer stopServing()

	// The metrics server starts first, so /healthz answers while the index
	// builds; /readyz waits for the index and Discord.
	var discordUp atomic.Bool
	var lib atomic.Pointer[retrieval.Library]
	m.SetReady(func() error {
		switch {
		case lib.Load() == nil || lib.Load().Current() == nil:
			return errors.New("no index loaded yet")
		case !discordUp.Load():
			return errors.New("not connected to Discord")
		}
		return nil
	})
	stopMetrics, err := listen(ctx, cfg.HTTP.MetricsAddr, m.Handler(), log, "metrics")
	if err != nil {
		return err
	}
	defer stopMetrics()

	var watch *folderWatch
	if cfg.Knowledge.Watch && cfg.Knowledge.Dir != "" {
		watch = watchFolder(cfg.Knowledge.Dir) // before loading: no change is missed
	}
	indexing := newLogProgress(bar, log, "indexing stories", "stories")
	a, err := app.Open(ctx, cfg, log, app.Options{Progress: indexing.update, WrapEmbedder: m.CountEmbedder, Metrics: m})
	indexing.finish()
	if err != nil {
		return err
	}
	l, rep, rl := a.Library, a.Report, a.Reloader
	lib.Store(l)
	st := l.Current().Stats()
	m.IndexSize(st.Stories, st.Chunks)
	log.Info("index loaded", "source", rep.Source, "stories", st.Stories, "chunks", st.Chunks,
		"embedded", rep.Embedded, "cached", rep.Cached, "seconds", rep.Took.Seconds(), "version", l.Current().Version())

	// Every reload, whoever asks (/reload, the watcher, SIGHUP), goes
	// through the one reloader; its goroutines and these are waited for.
	reload := func(ctx context.Context) (retrieval.ReloadReport, error) { return rl.Reload(ctx, "/reload") }
	var wg sync.WaitGroup
	defer func() {
		stopServing()
		wg.Wait()
		rl.Wait()
	}()
	if watch != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			watch.run(ctx, watchEvery, watchQuiet, func(ctx context.Context) (retrieval.ReloadReport, error) {
				return rl.Reload(ctx, "the knowledge folder changed")
			}, log)
		}()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_, _ = rl.Reload(ctx, "SIGHUP")
			}
		}
	}()

	mem, kept, closeStorage, err := openMemory(ctx, cfg, log, getenv, m)
	if err != nil {
		return err
	}
	// After the bot has drained (the deferred shutdown below runs first):
	// the answers it gave are queued by then, and written here.
	defer closeStorage()
	var reloadReplicas func(context.Context) ([]bot.ReplicaReload, error)
	if kept != nil && kept.Shared {
		reloadReplicas = shareReloads(ctx, kept, rl, l, log)
		defer reloadReplicas(nil) // stops listening, before the database closes
	}

	b, err := bot.New(bot.Config{
		Memory:           mem,
		Library:          l,
		Reload:           reload,
		ReloadReplicas:   reloadReplicas,
		Metrics:          m,
		Log:              log,
		ApplicationID:    cfg.Discord.ApplicationID,
		GuildIDs:         cfg.Discord.GuildIDs,
		ModeratorRoleIDs: cfg.Discord.ModeratorRoleIDs,
		PerUserPerMinute: cfg.Limits.PerUserPerMinute,
		Concurrency:      cfg.Limits.Concurrency,
	})
	if err != nil {
		return err
	}
	s, err := newSession()
	if err != nil {
		return fmt.Errorf("discord session: %w", err)
	}
	s.Client.Timeout = 20 * time.Second

	if cfg.HTTP.InteractionsAddr != "" {
		key, err := hex.DecodeString(cfg.Discord.PublicKey)
		if err != nil || len(key) != ed25519.PublicKeySize {
			return errors.New("discord.public_key must be the application's 64-hex-digit public key")
		}
		stop, err := listen(ctx, cfg.HTTP.InteractionsAddr, b.HTTPHandler(ed25519.PublicKey(key), s), log, "interactions")
		if err != nil {
			return err
		}
		// The same bulk overwrite as on the gateway: without it a fresh
		// HTTP-only deployment has no commands. Ready only once it worked.
		if err := b.Register(ctx, s); err != nil {
			stop()
			if ctx.Err() != nil && b.Err() == nil {
				return nil
			}
			return err
		}
		discordUp.Store(true) // Discord reaches us; there is no connection to keep
		select {
		case <-ctx.Done():
		case <-b.Fatal(): // Discord rejected the token: answering is impossible
		}
		stop()
		drain, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return errors.Join(b.Err(), b.Shutdown(drain))
	}
	sessions, err := shardSessions(cfg.Discord, s, newSession)
	if err != nil {
		return err
	}
	// Ready once every shard is connected.
	var up atomic.Int64
	for _, s := range sessions {
		var connected atomic.Bool
		set := func(on bool) {
			if connected.Swap(on) != on {
				if on {
					up.Add(1)
				} else {
					up.Add(-1)
				}
			}
			discordUp.Store(up.Load() == int64(len(sessions)))
		}
		s.AddHandler(func(*discordgo.Session, *discordgo.Ready) { set(true) })
		s.AddHandler(func(*discordgo.Session, *discordgo.Resumed) { set(true) })
		s.AddHandler(func(*discordgo.Session, *discordgo.Disconnect) { set(false) })
	}
	if len(sessions) == 1 {
		return b.Run(ctx, s)
	}
	log.Info("gateway sharded", "shard_count", sessions[0].ShardCount, "shards", len(sessions))
	errs := make(chan error, len(sessions))
	for _, s := range sessions {
		go func() { errs <- b.Run(ctx, s) }()
	}
	var all []error
	for range sessions {
		if err := <-errs; err != nil {
			all = append(all, err)
			stopServing() // one shard failing stops them all
		}
	}
	return errors.Join(all...)
}

// shardSessions makes the gateway sessions this process runs: first alone
// when discord.shard_count is unset; otherwise one per shard of
// discord.shard_ids (all shards when empty), with the count from the
// config or, for "auto", from Discord's GET /gateway/bot.
func shardSessions(d config.Discord, first *discordgo.Session, newSession func() (*discordgo.Session, error)) ([]*discordgo.Session, error) {
	count := d.Shards()
	if count < 0 {
		return []*discordgo.Session{first}, nil
	}
	if count == 0 {
		gb, err := first.GatewayBot()
		if err != nil {
			return nil, fmt.Errorf("discord.shard_count auto: ask Discord for its recommendation (GET /gateway/bot): %w", err)
		}
		count = max(gb.Shards, 1)
	}
	ids := d.ShardIDs
	if len(ids) == 0 {
		for i := range count {
			ids = append(ids, i)
		}
	}
	var out []*discordgo.Session
	for i, id := range ids {
		if id >= count {
			return nil, fmt.Errorf("discord.shard_ids: shard %d, but discord.shard_count %s is %d shards", id, d.ShardCount, count)
		}
		s := first
		if i > 0 {
			var err error
			if s, err = newSession(); err != nil {
				return nil, fmt.Errorf("discord session for shard %d: %w", id, err)
			}
			s.Client.Timeout = first.Client.Timeout
		}
		s.ShardID, s.ShardCount = id, count
		out = append(out, s)
	}
	return out, nil
}

// The bot reports lost replies and recovered panics through this optional
// interface; make sure production metrics keep providing it.
var _ bot.FailureMetrics = (*metrics.Metrics)(nil)

// openMemory opens the database for the bot (SQLite in data_dir, or
// PostgreSQL), wires its health into /readyz and starts pruning on a
// goroutine that closeStorage stops and waits for. Without a database the bot keeps nothing, and
// says so. closeStorage flushes what is queued; call it once the bot has
// stopped.
func openMemory(ctx context.Context, cfg *config.Config, log *slog.Logger, getenv func(string) string, m *metrics.Metrics) (mem *bot.Memory, st *app.Storage, closeStorage func(), err error) {
	st, err = app.OpenStorage(ctx, cfg, getenv, log, m)
	if errors.Is(err, app.ErrNoStorage) {
		log.Warn("no question log, votes or stored answers: " + err.Error())
		return nil, nil, func() {}, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	log.Info("storage opened", "database", st.DB.Name(), "shared", st.Shared, "retention_days", cfg.Storage.RetentionDays)
	m.SetDegraded(st.Writer.Healthy)
	mem = &bot.Memory{Store: st.DB, Writer: st.Writer, Users: st.Users}
	if st.Shared {
		perMinute := cfg.Limits.PerUserPerMinute
		if perMinute == 0 {
			perMinute = bot.DefaultPerUserPerMinute
		}
		mem.Questions = &storage.Limiter{Store: st.DB, Limit: perMinute, Window: time.Minute}
		mem.Actions = &storage.Limiter{Store: st.DB, Limit: bot.ActionsPerQuestion * perMinute, Window: time.Minute}
	}
	pruneCtx, stopPruning := context.WithCancel(ctx)
	pruned := make(chan struct{})
	go func() {
		defer close(pruned)
		storage.RunPruning(pruneCtx, st.DB, st.Retention, 0, log)
	}()
	return mem, st, func() {
		stopPruning()
		<-pruned
		if err := st.Close(); err != nil {
			log.Warn("storage closed with rows unwritten", "err", err)
		}
	}, nil
}

// shareReloads makes /reload reach every replica on the database (LISTEN/
// NOTIFY): this replica listens for the others' reloads, runs them through
// its one reloader, and answers with its index version. The function it
// returns asks the others and collects their answers; called with a nil
// context it stops listening and waits for the listener.
func shareReloads(ctx context.Context, st *app.Storage, rl *app.Reloader, lib *retrieval.Library, log *slog.Logger) func(context.Context) ([]bot.ReplicaReload, error) {
	reps := app.NewReplicas(st.DB, rl.Reload, func() string { return lib.Current().Version() }, log)
	listenCtx, stop := context.WithCancel(ctx)
	done, ready := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		reps.Run(listenCtx, ready)
	}()
	select {
	case <-ready:
		log.Info("listening for reloads on other replicas", "replica", reps.ID)
	case <-time.After(5 * time.Second):
		log.Warn("not yet listening for reloads on other replicas; still trying", "replica", reps.ID)
	case <-ctx.Done():
	}
	return func(ctx context.Context) ([]bot.ReplicaReload, error) {
		if ctx == nil {
			stop()
			<-done
			return nil, nil
		}
		res, err := reps.ReloadOthers(ctx, app.DefaultCollect)
		out := make([]bot.ReplicaReload, len(res))
		for i, r := range res {
			out[i] = bot.ReplicaReload{Replica: r.Replica, Version: r.Version, Err: r.Err}
		}
		return out, err
	}
}
