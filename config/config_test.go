package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"storybot/retrieval"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantErr fails unless err mentions every fragment.
func wantErr(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

func TestExampleFileLoadsAndIsComplete(t *testing.T) {
	const path = "../config.example.yaml"
	c, err := Load(path, env())
	if err != nil {
		t.Fatalf("the example config does not load: %v", err)
	}
	if c.Discord.ApplicationID != "123456789012345678" || !reflect.DeepEqual(c.Discord.GuildIDs, []string{"234567890123456789"}) {
		t.Errorf("discord section not read: %+v", c.Discord)
	}
	// Apart from the example Discord IDs, the file documents the defaults.
	d := Default()
	d.Discord = c.Discord
	if !reflect.DeepEqual(stripped(c), stripped(d)) {
		t.Errorf("example values differ from Default():\nexample %+v\ndefault %+v", stripped(c), stripped(d))
	}
	// Every setting is in the file, so the file cannot fall behind the code.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Kind != yaml.MappingNode {
			present[path] = true
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walk(n.Content[i+1], join(path, n.Content[i].Value))
		}
	}
	walk(doc.Content[0], "")
	for _, key := range EnvNames() {
		if !present[key] {
			t.Errorf("config.example.yaml does not document %s", key)
		}
	}
	// And every key has a comment, in its line or in the lines above it.
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasSuffix(trimmed, ":") {
			continue
		}
		if strings.Contains(line, "#") || (i > 0 && strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#")) {
			continue
		}
		t.Errorf("config.example.yaml line %d has no comment: %s", i+1, line)
	}
}

func stripped(c *Config) Config {
	s := *c
	s.getenv, s.origin = nil, nil
	return s
}

func TestDefaultsMatchRetrieval(t *testing.T) {
	c, err := Load("", env())
	if err != nil {
		t.Fatal(err)
	}
	if c.Retrieval.TopK != retrieval.DefaultTopK || c.Retrieval.DeclineBelow != 0 || c.Retrieval.SentenceEncoder != SentenceEncoderBuiltin {
		t.Errorf("retrieval defaults %+v", c.Retrieval)
	}
	if c.Chunking.MinWords != retrieval.DefaultChunkOptions.MinWords || c.Chunking.MaxWords != retrieval.DefaultChunkOptions.MaxWords || c.Chunking.Overlap != retrieval.DefaultChunkOptions.Overlap {
		t.Errorf("chunking defaults %+v", c.Chunking)
	}
	if c.Embedder.Kind != EmbedderOffline || c.HTTP.MetricsAddr != ":9090" || c.DataDir != "" || c.Limits.Concurrency != 8 {
		t.Errorf("defaults %+v", c)
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	for _, text := range []string{"", "# only a comment\n", "~\n"} {
		c, err := Load(writeConfig(t, text), env())
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if !reflect.DeepEqual(stripped(c), stripped(Default())) {
			t.Errorf("%q gave %+v", text, c)
		}
	}
}

func TestFileValues(t *testing.T) {
	p := writeConfig(t, `
discord:
  application_id: 1234567890123456789
  guild_ids:
    - "111"
    - 222
  moderator_role_ids: [333]
knowledge: {dir: /stories, watch: true}
chunking: {min_words: 50, max_words: 120, overlap: 0}
retrieval: {top_k: 6, decline_below: 0.6, sentence_encoder: none}
embedder:
  kind: ollama
  url: http://ollama:11434
  model: nomic-embed-text
  timeout: 1m30s
  batch_size: 16
limits: {per_user_per_minute: 3, concurrency: 2}
data_dir: /data
http: {interactions_addr: ":8080", metrics_addr: "127.0.0.1:9191"}
discord_extra_is_not_here: false
`)
	_, err := Load(p, env())
	wantErr(t, err, "line 20", `unknown key "discord_extra_is_not_here" at the top level`)

	text, _ := os.ReadFile(p)
	p = writeConfig(t, strings.Replace(string(text), "discord_extra_is_not_here: false", "log: {level: debug}", 1)+
		"") // and the public key that HTTP interactions need:
	text, _ = os.ReadFile(p)
	p = writeConfig(t, strings.Replace(string(text), "  moderator_role_ids: [333]", "  moderator_role_ids: [333]\n  public_key: "+strings.Repeat("ab", 32), 1))
	c, err := Load(p, env())
	if err != nil {
		t.Fatal(err)
	}
	// An unquoted 19-digit ID keeps every digit: yaml hands the field the
	// text, not a float.
	if c.Discord.ApplicationID != "1234567890123456789" {
		t.Errorf("application_id = %q", c.Discord.ApplicationID)
	}
	if !reflect.DeepEqual(c.Discord.GuildIDs, []string{"111", "222"}) || !reflect.DeepEqual(c.Discord.ModeratorRoleIDs, []string{"333"}) {
		t.Errorf("ids %+v", c.Discord)
	}
	if c.Knowledge != (Knowledge{Dir: "/stories", Watch: true}) || c.Chunking != (Chunking{50, 120, 0}) || c.Retrieval != (Retrieval{6, 0.6, "none"}) {
		t.Errorf("sections %+v %+v %+v", c.Knowledge, c.Chunking, c.Retrieval)
	}
	if c.Embedder != (Embedder{Kind: "ollama", URL: "http://ollama:11434", Model: "nomic-embed-text", Timeout: Duration(90 * time.Second), BatchSize: 16}) {
		t.Errorf("embedder %+v", c.Embedder)
	}
	if c.Limits != (Limits{3, 2}) || c.DataDir != "/data" || c.HTTP != (HTTP{":8080", "127.0.0.1:9191"}) || c.Log.Level != "debug" {
		t.Errorf("rest %+v", c)
	}
}

func TestUnknownKeysNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"limits:\n  concurency: 4\n", []string{"line 2", `unknown key "concurency" in limits`, "per_user_per_minute, concurrency"}},
		{"log:\n  level: info\nretreival:\n  top_k: 3\n", []string{"line 3", `unknown key "retreival" at the top level`, "retrieval"}},
		{"discord:\n  token: abc.def.ghi\n", []string{"line 2", "discord.token", "never read from the config file", "DISCORD_TOKEN"}},
		// Two mistakes are both reported.
		{"chunking:\n  min: 1\n  max: 2\n", []string{"line 2", `"min"`, "line 3", `"max"`}},
	} {
		_, err := Load(writeConfig(t, tc.text), env())
		wantErr(t, err, tc.want...)
		if err != nil && strings.Contains(err.Error(), "abc.def.ghi") {
			t.Errorf("error repeats the token: %v", err)
		}
	}
}

func TestBadValuesInFile(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"limits:\n  concurrency: many\n", []string{"line 2", "limits.concurrency", `"many"`, "a whole number"}},
		{"retrieval:\n  decline_below: high\n", []string{"line 2", "retrieval.decline_below", "a number"}},
		{"knowledge:\n  watch: sometimes\n", []string{"line 2", "knowledge.watch", "true or false"}},
		{"embedder:\n  timeout: 10\n", []string{"line 2", "embedder.timeout", "a duration with a unit"}},
		{"embedder:\n  timeout: [1s]\n", []string{"line 2", "embedder.timeout", "a list"}},
		{"discord:\n  guild_ids: 123\n", []string{"line 2", "discord.guild_ids", "not a list"}},
		{"discord:\n  guild_ids:\n    - [1, 2]\n", []string{"line 3", "discord.guild_ids[0]", "a list"}},
		{"data_dir:\n  path: /x\n", []string{"line 2", "data_dir", "a mapping"}},
		{"limits: 5\n", []string{"line 1", "limits must be a mapping"}},
		{"- a\n- b\n", []string{"line 1", "the file must be a mapping"}},
		{"log: {level: info}\n---\nlog: {level: debug}\n", []string{"second YAML document"}},
		{"limits:\n  concurrency: 4\n  concurrency: 5\n", []string{"line 3", "already defined"}},
		{"limits: [unclosed\n", []string{"yaml"}},
		{"base: &b {concurrency: 3}\nlimits:\n  <<: *b\n", []string{"line 1", `unknown key "base"`, "line 3", "merge keys"}},
	} {
		p := writeConfig(t, tc.text)
		_, err := Load(p, env())
		wantErr(t, err, append(tc.want, p)...)
	}
}

func TestValidateNamesKeyValueAndAllowed(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"discord: {application_id: abc}", []string{"line 1: discord.application_id", `"abc"`, "numeric"}},
		{"discord:\n  guild_ids: [\"1\", \"x2\"]", []string{"line 2: discord.guild_ids[1]", `"x2"`, "numeric"}},
		{"discord:\n  moderator_role_ids:\n    - 99999999999999999999999", []string{"line 3: discord.moderator_role_ids[0]", "numeric role IDs"}},
		{"discord: {public_key: xyz}", []string{"discord.public_key", "64 hex digits"}},
		{"knowledge: {watch: true}", []string{"knowledge.watch", "needs knowledge.dir"}},
		{"chunking: {min_words: 0}", []string{"chunking.min_words", "0 is not allowed", "from 1 to 10000"}},
		{"chunking: {min_words: 300, max_words: 200}", []string{"chunking.max_words", "200 is not allowed", "from chunking.min_words (300)"}},
		{"chunking: {overlap: -1}", []string{"chunking.overlap", "-1", "0 (none) to 20"}},
		{"retrieval: {top_k: 0}", []string{"retrieval.top_k", "from 1 to 50"}},
		{"retrieval: {decline_below: -0.1}", []string{"retrieval.decline_below", "0 for the measured default", "up to 2"}},
		{"retrieval: {decline_below: 2.5}", []string{"retrieval.decline_below", "up to 2"}},
		{"retrieval: {sentence_encoder: bert}", []string{"retrieval.sentence_encoder", `"bert"`, `"builtin" or "none"`}},
		{"retrieval: {decline_below: .nan}", []string{"retrieval.decline_below", "NaN"}},
		{"embedder: {kind: bert}", []string{"embedder.kind", `"bert"`, "offline, ollama, openai or none"}},
		{"embedder: {kind: ollama}", []string{"embedder.url", "base URL is required", "embedder.model", "name the embedding model"}},
		{"embedder: {kind: openai, url: ftp://x, model: m}", []string{"embedder.url", "http:// or https://"}},
		{"embedder: {kind: openai, url: 'https://u:secret@x', model: m}", []string{"embedder.url", "REDACTED", "credentials"}},
		{"embedder: {kind: openai, url: 'https://x/?a=1', model: m}", []string{"embedder.url", "without a query"}},
		{"embedder: {url: http://x}", []string{"embedder.url", "only with embedder.kind ollama or openai", "kind is offline"}},
		{"embedder: {kind: none, model: m}", []string{"embedder.model", "kind is none"}},
		{"embedder: {timeout: -1s}", []string{"embedder.timeout", `"-1s"`, "at most 10m0s"}},
		{"embedder: {batch_size: 100000}", []string{"embedder.batch_size", "from 1 to 4096"}},
		{"embedder: {kind: openai, url: 'https://x', model: m, api_key_env: sk-123}", []string{"embedder.api_key_env", "NAME of an environment variable"}},
		{"limits: {per_user_per_minute: 0}", []string{"limits.per_user_per_minute", "from 1 to 1000"}},
		{"limits: {concurrency: 5000}", []string{"limits.concurrency", "from 1 to 1024"}},
		{"http: {metrics_addr: '9090'}", []string{"http.metrics_addr", "host:port"}},
		{"http: {metrics_addr: ':99999'}", []string{"http.metrics_addr", "0 to 65535"}},
		{"http: {interactions_addr: ':8080'}", []string{"http.interactions_addr", "discord.public_key"}},
		{"discord: {public_key: " + strings.Repeat("0", 64) + "}\nhttp: {interactions_addr: ':8080', metrics_addr: ':8080'}", []string{"http.metrics_addr", "different address"}},
		{"log: {level: verbose}", []string{"log.level", `"verbose"`, "debug, info, warn or error"}},
	} {
		_, err := Load(writeConfig(t, tc.text), env())
		wantErr(t, err, tc.want...)
	}
	// All mistakes at once, not the first one only.
	_, err := Load(writeConfig(t, "limits: {concurrency: 0, per_user_per_minute: 0}\nlog: {level: loud}\n"), env())
	wantErr(t, err, "limits.concurrency", "limits.per_user_per_minute", "log.level")
}

func TestEnvOverrides(t *testing.T) {
	p := writeConfig(t, "knowledge: {dir: /from-file}\ndiscord: {guild_ids: [\"1\", \"2\"]}\nlimits: {concurrency: 2}\n")
	c, err := Load(p, env(
		"STORYBOT_KNOWLEDGE_DIR", "/from-env",
		"STORYBOT_KNOWLEDGE_WATCH", "true",
		"STORYBOT_LIMITS_CONCURRENCY", " 4 ",
		"STORYBOT_DISCORD_GUILD_IDS", "10, 20,,30",
		"STORYBOT_RETRIEVAL_DECLINE_BELOW", "0.7",
		"STORYBOT_EMBEDDER_TIMEOUT", "3s",
		"STORYBOT_DATA_DIR", "/data",
		"STORYBOT_HTTP_METRICS_ADDR", "127.0.0.1:9999",
		"STORYBOT_LOG_LEVEL", "",
	))
	if err != nil {
		t.Fatal(err)
	}
	if c.Knowledge.Dir != "/from-env" || !c.Knowledge.Watch || c.Limits.Concurrency != 4 || c.Retrieval.DeclineBelow != 0.7 ||
		c.Embedder.Timeout != Duration(3*time.Second) || c.DataDir != "/data" || c.HTTP.MetricsAddr != "127.0.0.1:9999" || c.Log.Level != "info" {
		t.Errorf("overrides not applied: %+v", c)
	}
	if !reflect.DeepEqual(c.Discord.GuildIDs, []string{"10", "20", "30"}) {
		t.Errorf("guild ids %q", c.Discord.GuildIDs)
	}

	names := EnvNames()
	for name, key := range map[string]string{
		"STORYBOT_DISCORD_APPLICATION_ID": "discord.application_id",
		"STORYBOT_DISCORD_TOKEN_FILE":     "discord.token_file",
		"STORYBOT_EMBEDDER_API_KEY_ENV":   "embedder.api_key_env",
		"STORYBOT_DATA_DIR":               "data_dir",
		"STORYBOT_HTTP_INTERACTIONS_ADDR": "http.interactions_addr",
	} {
		if names[name] != key {
			t.Errorf("EnvNames()[%s] = %q, want %q", name, names[name], key)
		}
	}
	if len(names) != 31 {
		t.Errorf("%d variables, want one per setting (31): %v", len(names), names)
	}
}

func TestBadEnvNamesTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want []string
	}{
		{[]string{"STORYBOT_LIMITS_CONCURRENCY", "lots"}, []string{"STORYBOT_LIMITS_CONCURRENCY (limits.concurrency)", `"lots"`, "a whole number"}},
		{[]string{"STORYBOT_KNOWLEDGE_WATCH", "yes please"}, []string{"STORYBOT_KNOWLEDGE_WATCH", "true or false"}},
		{[]string{"STORYBOT_RETRIEVAL_DECLINE_BELOW", "x"}, []string{"STORYBOT_RETRIEVAL_DECLINE_BELOW", "a number"}},
		{[]string{"STORYBOT_EMBEDDER_TIMEOUT", "10"}, []string{"STORYBOT_EMBEDDER_TIMEOUT", "a duration with a unit"}},
		// Parsed fine but out of range: Validate names the variable too.
		{[]string{"STORYBOT_LIMITS_CONCURRENCY", "0"}, []string{"STORYBOT_LIMITS_CONCURRENCY (limits.concurrency): 0 is not allowed", "from 1 to 1024"}},
		{[]string{"STORYBOT_DISCORD_GUILD_IDS", "1,abc"}, []string{"STORYBOT_DISCORD_GUILD_IDS (discord.guild_ids[1])", `"abc"`}},
		{[]string{"STORYBOT_DISCORD_TOKEN", "secret-token-value"}, []string{"STORYBOT_DISCORD_TOKEN is not read", "DISCORD_TOKEN or discord.token_file"}},
	} {
		_, err := Load("", env(tc.env...))
		wantErr(t, err, tc.want...)
		if err != nil && strings.Contains(err.Error(), "secret-token-value") {
			t.Errorf("error repeats the token: %v", err)
		}
	}
	// An override replaces the file's list, and errors point at the
	// variable, not at the file's lines.
	p := writeConfig(t, "discord:\n  guild_ids:\n    - \"1\"\n    - \"2\"\n")
	_, err := Load(p, env("STORYBOT_DISCORD_GUILD_IDS", "3,x"))
	wantErr(t, err, "STORYBOT_DISCORD_GUILD_IDS (discord.guild_ids[1])")
	if err != nil && strings.Contains(err.Error(), "line 4") {
		t.Errorf("error points at the file: %v", err)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), env())
	wantErr(t, err, "load config", "nope.yaml", "no such file")
}

func TestToken(t *testing.T) {
	const secret = "MTA5.secret.token"
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c := Default()

	tok, err := c.Token(env("DISCORD_TOKEN", " Bot "+secret+"\n"))
	if err != nil || tok != secret {
		t.Errorf("from DISCORD_TOKEN: %q, %v", tok, err)
	}
	_, err = c.Token(env())
	wantErr(t, err, "no Discord token", "DISCORD_TOKEN", "discord.token_file")

	c.Discord.TokenFile = file("token", secret+"\n")
	if tok, err = c.Token(env()); err != nil || tok != secret {
		t.Errorf("from file: %q, %v", tok, err)
	}
	// The variable wins over the file.
	if tok, _ = c.Token(env("DISCORD_TOKEN", "other")); tok != "other" {
		t.Errorf("DISCORD_TOKEN did not win: %q", tok)
	}

	for _, tc := range []struct {
		path string
		want []string
	}{
		{filepath.Join(dir, "missing"), []string{"discord.token_file", "missing", "no such file"}},
		{file("empty", "\n \n"), []string{"discord.token_file", "empty"}},
		{file("two-lines", secret+"\n"+secret+"\n"), []string{"two-lines", "the token alone"}},
		{file("huge", strings.Repeat(secret, 1000)), []string{"huge", "larger than 4096 bytes"}},
	} {
		c.Discord.TokenFile = tc.path
		_, err := c.Token(env())
		wantErr(t, err, tc.want...)
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("error contains the token: %v", err)
		}
	}
	_, err = c.Token(env("DISCORD_TOKEN", "abc def"+secret))
	wantErr(t, err, "DISCORD_TOKEN", "spaces")
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("error contains the token: %v", err)
	}
}

func TestRetrievalOptionsArePlainData(t *testing.T) {
	c := Default()
	opts, err := c.RetrievalOptions()
	if err != nil {
		t.Fatal(err)
	}
	// No models: building them is the app package's job.
	if opts.Embedder != nil || opts.Encoder != nil {
		t.Errorf("config built a model: %+v", opts)
	}
	if opts.TopK != retrieval.DefaultTopK || opts.Chunking != retrieval.DefaultChunkOptions {
		t.Errorf("options %+v", opts)
	}
	c.Embedder = Embedder{Kind: EmbedderOpenAI, URL: "https://api.example.com/v1", Model: "m", APIKeyEnv: "MY_KEY"}
	c.getenv = env()
	_, err = c.EmbedderAPIKey()
	wantErr(t, err, "embedder.api_key_env", "MY_KEY is not set")
	c.getenv = env("MY_KEY", "sk-1")
	if k, err := c.EmbedderAPIKey(); k != "sk-1" || err != nil {
		t.Errorf("key %q, %v", k, err)
	}
}

func TestSlogLevel(t *testing.T) {
	for level, want := range map[string]string{"debug": "DEBUG", "warn": "WARN", "error": "ERROR", "info": "INFO", "bogus": "INFO"} {
		if got := (Log{Level: level}).SlogLevel().String(); got != want {
			t.Errorf("%s → %s, want %s", level, got, want)
		}
	}
}

// TestTokenPastedIntoAnotherKeyIsNotEchoed: a bot token pasted into
// application_id, guild_ids or log.level, in the file or the environment,
// is refused without the error quoting it (it used to quote 60
// characters).
func TestTokenPastedIntoAnotherKeyIsNotEchoed(t *testing.T) {
	tok := "MTA5ODc2NTQzMjEwOTg3NjU0MzI.GxYz12.realSecretTokenValue0123456789abcdefAB"
	for _, k := range []string{"STORYBOT_DISCORD_APPLICATION_ID", "STORYBOT_DISCORD_GUILD_IDS", "STORYBOT_LOG_LEVEL"} {
		env := map[string]string{k: tok}
		_, err := Load("", func(s string) string { return env[s] })
		if err == nil || strings.Contains(err.Error(), "MTA5ODc2NTQz") || strings.Contains(err.Error(), "realSecret") || !strings.Contains(err.Error(), "redacted") {
			t.Errorf("%s: %v", k, err)
		}
	}
	for _, y := range []string{"discord:\n  application_id: \"" + tok + "\"\n", "discord:\n  guild_ids: [\"" + tok + "\"]\n", "log:\n  level: " + tok + "\n"} {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p, func(string) string { return "" })
		if err == nil || strings.Contains(err.Error(), "MTA5ODc2NTQz") || strings.Contains(err.Error(), "realSecret") {
			t.Errorf("%q: %v", y, err)
		}
	}
}
