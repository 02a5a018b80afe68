// Package config is storybot's settings: a YAML file, overridden by
// STORYBOT_* environment variables, checked before anything starts.
//
// Every mistake is reported with the key (or variable) it is about, the value
// and what is allowed, so a moderator can fix the file without reading code.
// The Discord token is never part of the file: it comes from DISCORD_TOKEN or
// from the file named by discord.token_file.
package config

import (
	"log/slog"
	"os"
	"time"

	"storybot/retrieval"
)

// Config is everything storybot reads at start. The yaml tags are the keys of
// the file; the STORYBOT_ variables are derived from them (see Load).
type Config struct {
	Discord   Discord   `yaml:"discord"`
	Knowledge Knowledge `yaml:"knowledge"`
	Chunking  Chunking  `yaml:"chunking"`
	Retrieval Retrieval `yaml:"retrieval"`
	Embedder  Embedder  `yaml:"embedder"`
	Limits    Limits    `yaml:"limits"`
	// DataDir holds the embedding cache and the last good snapshot. Empty
	// means nothing is written: storybot then re-embeds on every start, but
	// runs on a read-only file system and never creates a folder nobody
	// asked for. The container image sets it to /data.
	DataDir string  `yaml:"data_dir"`
	Storage Storage `yaml:"storage"`
	HTTP    HTTP    `yaml:"http"`
	Log     Log     `yaml:"log"`

	// getenv reads secrets named by the config (embedder.api_key_env) at
	// the moment they are needed, so they are never stored in Config.
	getenv func(string) string
	// origin maps a key to where its value came from ("line 12" or a
	// variable name), so messages point at the right place.
	origin map[string]string
}

// Discord identifies the application and who may moderate it.
type Discord struct {
	ApplicationID    string   `yaml:"application_id"`
	GuildIDs         []string `yaml:"guild_ids"`
	ModeratorRoleIDs []string `yaml:"moderator_role_ids"`
	// PublicKey verifies the signatures of HTTP interactions (hex, from the
	// developer portal). Needed only when http.interactions_addr is set.
	PublicKey string `yaml:"public_key"`
	// TokenFile is read when DISCORD_TOKEN is not set (Docker and
	// Kubernetes secrets are files).
	TokenFile string `yaml:"token_file"`
	// ShardCount shards the gateway connection: a number of shards, or
	// "auto" for Discord's recommendation (GET /gateway/bot). Empty means
	// one connection, unsharded; Discord requires shards from 2,500
	// guilds.
	ShardCount string `yaml:"shard_count"`
	// ShardIDs are the shards this process runs; empty means all of them.
	ShardIDs []int `yaml:"shard_ids"`
}

// ShardAuto is discord.shard_count's value for Discord's recommendation.
const ShardAuto = "auto"

// MaxShards bounds discord.shard_count.
const MaxShards = 4096

// Knowledge is where the stories come from.
type Knowledge struct {
	// Dir is a folder of .txt/.md stories; empty means the built-in story.
	Dir   string `yaml:"dir"`
	Watch bool   `yaml:"watch"`
}

// Chunking shapes the passages that are indexed.
type Chunking struct {
	MinWords int `yaml:"min_words"`
	MaxWords int `yaml:"max_words"`
	// Overlap is how many sentences a chunk repeats from the previous one;
	// 0 means none.
	Overlap int `yaml:"overlap"`
}

// Retrieval tunes answering.
type Retrieval struct {
	TopK int `yaml:"top_k"`
	// DeclineBelow is the answerability the best sentence must reach; 0
	// means the measured default for the chosen encoder.
	DeclineBelow float64 `yaml:"decline_below"`
	// SentenceEncoder picks the answer sentence and decides whether to
	// decline: "builtin" (the default) or "none" (word vectors only).
	SentenceEncoder string `yaml:"sentence_encoder"`
}

// Sentence encoder kinds.
const (
	SentenceEncoderBuiltin = "builtin"
	SentenceEncoderNone    = "none"
)

// Embedder kinds.
const (
	EmbedderOffline = "offline"
	EmbedderOllama  = "ollama"
	EmbedderOpenAI  = "openai"
	EmbedderNone    = "none"
)

// Embedder chooses the vector leg of retrieval.
type Embedder struct {
	Kind      string   `yaml:"kind"`
	URL       string   `yaml:"url"`
	Model     string   `yaml:"model"`
	Timeout   Duration `yaml:"timeout"`
	BatchSize int      `yaml:"batch_size"`
	// APIKeyEnv is the NAME of the environment variable holding the API
	// key, so the key itself never sits in a file that gets shared.
	APIKeyEnv string `yaml:"api_key_env"`
}

// Limits protect the bot and the embedder from floods.
type Limits struct {
	PerUserPerMinute int `yaml:"per_user_per_minute"`
	Concurrency      int `yaml:"concurrency"`
}

// Storage is where the question log, the answers and the votes are kept:
// PostgreSQL when PostgresURL is set (many replicas share it), else SQLite
// in DataDir, else nowhere (memory only, lost on restart).
type Storage struct {
	// PostgresURL is a postgres:// URL or key=value settings. Its password
	// is better left to PGPASSWORD or a ~/.pgpass file, or the whole URL to
	// STORYBOT_STORAGE_POSTGRES_URL, than written in a shared file.
	PostgresURL string `yaml:"postgres_url"`
	// LogQuestions keeps each question's text in the log; false keeps only
	// its outcome, citation, score and timing.
	LogQuestions bool `yaml:"log_questions"`
	// RetentionDays is how long the log, answers and votes are kept.
	RetentionDays int `yaml:"retention_days"`
	// SaltFile holds the secret that user IDs are hashed with, when
	// STORYBOT_STORAGE_SALT is not set (StorageSalt).
	SaltFile string `yaml:"salt_file"`
}

// DefaultRetentionDays is how long the question log is kept by default.
const DefaultRetentionDays = 90

// HTTP holds listen addresses. Metrics and health are on their own address
// so they can stay private while interactions face Discord.
type HTTP struct {
	// InteractionsAddr receives Discord interactions over HTTP; empty means
	// they arrive over the gateway websocket instead.
	InteractionsAddr string `yaml:"interactions_addr"`
	// MetricsAddr serves /metrics, /healthz and /readyz; empty turns them
	// off.
	MetricsAddr string `yaml:"metrics_addr"`
}

// Log sets how much is logged.
type Log struct {
	Level string `yaml:"level"`
}

// Default limits. They bound one user's share and the work in flight on a
// small host; an answer takes milliseconds offline, so 8 at once is plenty.
const (
	DefaultPerUserPerMinute = 5
	DefaultConcurrency      = 8
	DefaultMetricsAddr      = ":9090"
)

// Default is the configuration with nothing set: the built-in story, the
// offline embedder, retrieval's measured defaults, no persistence.
func Default() *Config {
	return &Config{
		Chunking: Chunking{
			MinWords: retrieval.DefaultChunkOptions.MinWords,
			MaxWords: retrieval.DefaultChunkOptions.MaxWords,
			Overlap:  retrieval.DefaultChunkOptions.Overlap,
		},
		Retrieval: Retrieval{TopK: retrieval.DefaultTopK, SentenceEncoder: SentenceEncoderBuiltin},
		Embedder:  Embedder{Kind: EmbedderOffline},
		Limits:    Limits{PerUserPerMinute: DefaultPerUserPerMinute, Concurrency: DefaultConcurrency},
		Storage:   Storage{LogQuestions: true, RetentionDays: DefaultRetentionDays},
		HTTP:      HTTP{MetricsAddr: DefaultMetricsAddr},
		Log:       Log{Level: "info"},
		getenv:    os.Getenv,
	}
}

// SlogLevel is log.level as a slog level (info if it is not valid; Validate
// reports that).
func (l Log) SlogLevel() slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return slog.LevelInfo
	}
	return lv
}

// Duration is a time.Duration written as "10s" or "1m30s".
type Duration time.Duration
