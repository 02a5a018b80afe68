package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"storybot/retrieval"
)

// Bounds of the numeric settings. They are wide; their job is to catch a
// slipped digit or a unit mistake, not to second-guess tuning.
const (
	maxWordsLimit     = 10000
	maxOverlap        = 20
	maxTopK           = 50
	maxDeclineBelow   = 2.0 // coverage (≤1) + 0.5·two cosines (≤1)
	maxEmbedTimeout   = 10 * time.Minute
	maxBatchSize      = 4096
	maxPerUserPerMin  = 1000
	maxConcurrency    = 1024
	maxRetentionDays  = 3650
	snowflakeMaxDigit = 20
)

var (
	envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	hexKey  = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
)

// Validate checks every setting and reports all mistakes at once. Each
// message names the key (with its line or variable when known), the value
// and what is allowed.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key string, value any, allowed string) {
		errs = append(errs, fmt.Errorf("%s: %s is not allowed; %s", c.where(key), show(value), allowed))
	}

	d := c.Discord
	if d.ApplicationID != "" && !isSnowflake(d.ApplicationID) {
		bad("discord.application_id", d.ApplicationID, "use the application's numeric ID from the Discord developer portal")
	}
	for i, id := range d.GuildIDs {
		if !isSnowflake(id) {
			bad(fmt.Sprintf("discord.guild_ids[%d]", i), id, "use numeric server (guild) IDs")
		}
	}
	for i, id := range d.ModeratorRoleIDs {
		if !isSnowflake(id) {
			bad(fmt.Sprintf("discord.moderator_role_ids[%d]", i), id, "use numeric role IDs")
		}
	}
	if d.PublicKey != "" && !hexKey.MatchString(d.PublicKey) {
		bad("discord.public_key", d.PublicKey, "use the 64 hex digits of the application's public key")
	}

	if c.Knowledge.Watch && c.Knowledge.Dir == "" {
		bad("knowledge.watch", true, "watching needs knowledge.dir: the built-in story never changes")
	}

	ch := c.Chunking
	if ch.MinWords < 1 || ch.MinWords > maxWordsLimit {
		bad("chunking.min_words", ch.MinWords, fmt.Sprintf("use a whole number from 1 to %d", maxWordsLimit))
	}
	if ch.MaxWords < max(ch.MinWords, 1) || ch.MaxWords > maxWordsLimit {
		bad("chunking.max_words", ch.MaxWords, fmt.Sprintf("use a whole number from chunking.min_words (%d) to %d", ch.MinWords, maxWordsLimit))
	}
	if ch.Overlap < 0 || ch.Overlap > maxOverlap {
		bad("chunking.overlap", ch.Overlap, fmt.Sprintf("use a number of sentences from 0 (none) to %d", maxOverlap))
	}

	r := c.Retrieval
	if r.TopK < 1 || r.TopK > maxTopK {
		bad("retrieval.top_k", r.TopK, fmt.Sprintf("use a whole number from 1 to %d", maxTopK))
	}
	if math.IsNaN(r.DeclineBelow) || r.DeclineBelow < 0 || r.DeclineBelow > maxDeclineBelow {
		bad("retrieval.decline_below", r.DeclineBelow, fmt.Sprintf("use 0 for the measured default (%g with the sentence encoder, %g without) or a number up to %g",
			retrieval.DefaultDeclineBelowEncoder, retrieval.DefaultDeclineBelow, maxDeclineBelow))
	}
	if r.SentenceEncoder != SentenceEncoderBuiltin && r.SentenceEncoder != SentenceEncoderNone {
		bad("retrieval.sentence_encoder", r.SentenceEncoder, fmt.Sprintf("use %q or %q", SentenceEncoderBuiltin, SentenceEncoderNone))
	}

	c.validateEmbedder(bad)

	l := c.Limits
	if l.PerUserPerMinute < 1 || l.PerUserPerMinute > maxPerUserPerMin {
		bad("limits.per_user_per_minute", l.PerUserPerMinute, fmt.Sprintf("use a whole number of questions from 1 to %d", maxPerUserPerMin))
	}
	if l.Concurrency < 1 || l.Concurrency > maxConcurrency {
		bad("limits.concurrency", l.Concurrency, fmt.Sprintf("use a whole number from 1 to %d", maxConcurrency))
	}

	c.validateStorage(bad)
	c.validateShards(bad)

	h := c.HTTP
	if err := checkAddr(h.InteractionsAddr); err != nil {
		bad("http.interactions_addr", h.InteractionsAddr, err.Error())
	} else if h.InteractionsAddr != "" && d.PublicKey == "" {
		bad("http.interactions_addr", h.InteractionsAddr, "HTTP interactions need discord.public_key to verify Discord's signatures; set it, or leave the address empty to use the gateway")
	}
	if err := checkAddr(h.MetricsAddr); err != nil {
		bad("http.metrics_addr", h.MetricsAddr, err.Error())
	} else if h.MetricsAddr != "" && h.MetricsAddr == h.InteractionsAddr {
		bad("http.metrics_addr", h.MetricsAddr, "use a different address from http.interactions_addr, so metrics can stay private")
	}

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", c.Log.Level, "use debug, info, warn or error")
	}
	return errors.Join(errs...)
}

func (c *Config) validateEmbedder(bad func(key string, value any, allowed string)) {
	e := c.Embedder
	switch e.Kind {
	case EmbedderOffline, EmbedderNone:
		for _, f := range []struct{ key, value string }{{"embedder.url", e.URL}, {"embedder.model", e.Model}, {"embedder.api_key_env", e.APIKeyEnv}} {
			if f.value != "" {
				bad(f.key, f.value, fmt.Sprintf("it is used only with embedder.kind ollama or openai, and kind is %s", e.Kind))
			}
		}
	case EmbedderOllama, EmbedderOpenAI:
		if err := checkURL(e.URL); err != nil {
			bad("embedder.url", redactURL(e.URL), err.Error())
		}
		if strings.TrimSpace(e.Model) == "" {
			bad("embedder.model", e.Model, "name the embedding model, e.g. nomic-embed-text (Ollama) or text-embedding-3-small (OpenAI)")
		}
	default:
		bad("embedder.kind", e.Kind, "use offline, ollama, openai or none")
	}
	if t := time.Duration(e.Timeout); t < 0 || t > maxEmbedTimeout {
		bad("embedder.timeout", e.Timeout, fmt.Sprintf("use a duration above 0 and at most %s, or 0 for the default", maxEmbedTimeout))
	}
	if e.BatchSize < 0 || e.BatchSize > maxBatchSize {
		bad("embedder.batch_size", e.BatchSize, fmt.Sprintf("use a whole number from 1 to %d, or 0 for the default", maxBatchSize))
	}
	if e.APIKeyEnv != "" && !envName.MatchString(e.APIKeyEnv) {
		bad("embedder.api_key_env", e.APIKeyEnv, "use the NAME of an environment variable (letters, digits, _), such as OPENAI_API_KEY, not the key itself")
	}
}

func (c *Config) validateStorage(bad func(key string, value any, allowed string)) {
	s := c.Storage
	if s.RetentionDays < 1 || s.RetentionDays > maxRetentionDays {
		bad("storage.retention_days", s.RetentionDays, fmt.Sprintf("use a whole number of days from 1 to %d", maxRetentionDays))
	}
	if s.PostgresURL != "" {
		if err := checkPostgresURL(s.PostgresURL); err != nil {
			bad("storage.postgres_url", RedactPostgresURL(s.PostgresURL), err.Error())
		}
	}
}

// checkPostgresURL catches what is plainly not a connection string; the
// driver checks the rest when it connects.
func checkPostgresURL(raw string) error {
	if strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		if _, err := url.Parse(raw); err != nil {
			return errors.New("it does not parse as a URL; write postgres://user@host:5432/database (special characters in the password percent-encoded)")
		}
		return nil
	}
	if strings.Contains(raw, "://") || !strings.Contains(raw, "=") {
		return errors.New("use a postgres://user@host:5432/database URL or key=value settings such as \"host=db dbname=storybot\"")
	}
	return nil
}

// RedactPostgresURL hides the password in a PostgreSQL connection string
// (URL or key=value form) before it goes into a message.
func RedactPostgresURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
		}
		return u.String()
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		// An unparsable URL: drop everything up to the host.
		if at := strings.LastIndex(raw, "@"); at > i {
			return raw[:i+3] + "REDACTED@" + raw[at+1:]
		}
		return raw
	}
	var out []string
	quoted := false // inside a password='…' value with spaces
	for _, f := range strings.Fields(raw) {
		switch {
		case quoted:
			quoted = !strings.HasSuffix(f, "'")
		case strings.HasPrefix(f, "password="):
			v := strings.TrimPrefix(f, "password=")
			quoted = strings.HasPrefix(v, "'") && (len(v) == 1 || !strings.HasSuffix(v, "'"))
			out = append(out, "password=REDACTED")
		default:
			out = append(out, f)
		}
	}
	return strings.Join(out, " ")
}

func show(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(clip(v))
	case Duration:
		return strconv.Quote(v.String())
	}
	return fmt.Sprint(v)
}

// isSnowflake accepts Discord IDs: decimal digits that fit in a uint64.
func isSnowflake(s string) bool {
	if len(s) == 0 || len(s) > snowflakeMaxDigit {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

func checkAddr(addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New(`use host:port, such as ":9090" or "127.0.0.1:9090", or "" to turn it off`)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("use a port number from 0 to 65535")
	}
	return nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return errors.New("the server's base URL is required, e.g. http://localhost:11434 (Ollama) or https://api.openai.com/v1")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errors.New("use an absolute http:// or https:// URL")
	case u.User != nil:
		return errors.New("credentials do not belong in the URL; put the key in an environment variable named by embedder.api_key_env")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("use a base URL without a query or fragment")
	}
	return nil
}

// redactURL drops userinfo before a URL goes into a message.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User("REDACTED")
	return u.String()
}

// Shards returns discord.shard_count as a number, 0 for "auto" (ask
// Discord) and -1 when unset (one connection, unsharded).
func (d Discord) Shards() int {
	switch d.ShardCount {
	case "":
		return -1
	case ShardAuto:
		return 0
	}
	n, _ := strconv.Atoi(d.ShardCount)
	return n
}

func (c *Config) validateShards(bad func(key string, value any, allowed string)) {
	d := c.Discord
	n := -1
	if d.ShardCount != "" && d.ShardCount != ShardAuto {
		v, err := strconv.Atoi(d.ShardCount)
		if err != nil || v < 1 || v > MaxShards {
			bad("discord.shard_count", d.ShardCount, fmt.Sprintf("use auto (Discord's recommendation) or a whole number from 1 to %d", MaxShards))
			return
		}
		n = v
	}
	if d.ShardCount != "" && c.HTTP.InteractionsAddr != "" {
		bad("discord.shard_count", d.ShardCount, "shards are gateway connections; HTTP interactions (http.interactions_addr) use none, so leave it empty")
	}
	if len(d.ShardIDs) > 0 && d.ShardCount == "" {
		bad("discord.shard_ids", d.ShardIDs, "set discord.shard_count too (a number, or auto)")
	}
	seen := map[int]bool{}
	for _, id := range d.ShardIDs {
		switch {
		case id < 0 || (n > 0 && id >= n):
			bad("discord.shard_ids", id, fmt.Sprintf("use shard ids from 0 to shard_count-1 (%s)", d.ShardCount))
		case seen[id]:
			bad("discord.shard_ids", id, "list each shard once")
		}
		seen[id] = true
	}
}
