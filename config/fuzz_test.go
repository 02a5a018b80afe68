package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fuzzToken is the DISCORD_TOKEN the fuzzed loads run with, shaped like a
// real one. "$TOKEN" in the fuzzed file or variables stands for it, so the
// fuzzer can paste the token anywhere a moderator might by mistake.
const fuzzToken = "MTA5ODc2NTQzMjEwOTg3NjU0MzI.GxYz12.fuzzSecretTokenValue0123456789abcdefAB"

// tokenForms are the ways DISCORD_TOKEN may be written.
var tokenForms = []string{fuzzToken, "Bot " + fuzzToken, " " + fuzzToken + "\n", fuzzToken + " extra", "x" + fuzzToken + "\x00"}

// FuzzLoad loads fuzzed YAML with fuzzed STORYBOT_* variables. Load must
// never panic; it either fails or returns a config that Validate accepts,
// the same way every time; and no error, from Load or from Token, holds
// the Discord token or a recognisable piece of it, wherever it was pasted.
func FuzzLoad(f *testing.F) {
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range EnvNames() {
			if !yield(name) {
				return
			}
		}
	})
	index := func(name string) uint8 { return uint8(slices.Index(names, name)) }
	ex := string(example)
	seeds := []struct {
		yaml       string
		var1, var2 string
		val1, val2 string
	}{
		{ex, "", "", "", ""},
		{ex, "STORYBOT_LIMITS_CONCURRENCY", "STORYBOT_DISCORD_GUILD_IDS", "16", "111, 222,,"},
		{"", "STORYBOT_EMBEDDER_TIMEOUT", "STORYBOT_RETRIEVAL_DECLINE_BELOW", "10", "NaN"},
		{"", "STORYBOT_HTTP_INTERACTIONS_ADDR", "STORYBOT_DISCORD_PUBLIC_KEY", ":8080", strings.Repeat("ab", 32)},
		{"discord:\n  application_id: \"$TOKEN\"\n", "", "", "", ""},
		{"discord:\n  token: $TOKEN\n", "", "", "", ""},
		{"discord:\n  $TOKEN: 1\n", "", "", "", ""},
		{"$TOKEN\n", "", "", "", ""},
		{"embedder:\n  kind: openai\n  url: https://user:$TOKEN@api.example/v1\n  model: m\n", "", "", "", ""},
		{"embedder:\n  api_key_env: $TOKEN\n", "", "", "", ""},
		{"limits:\n  concurrency: x$TOKEN\n", "", "", "", ""},
		{"", "STORYBOT_DISCORD_APPLICATION_ID", "STORYBOT_LIMITS_CONCURRENCY", "$TOKEN", "$TOKEN"},
		{"", "STORYBOT_DISCORD_TOKEN", "STORYBOT_LOG_LEVEL", "$TOKEN", "loud"},
		{"discord:\n  application_id: \"MTA5ODc2NTQz\\x4djEwOTg3NjU0MzI.GxYz12.fuzzSecretTokenValue0123456789abcdefAB\"\n", "", "", "", ""},
		{"limits:\n\tconcurrency: 4\n", "", "", "", ""},
		{"limits: {concurrency: 4, per_user_per_minute: 0}\nlimts: 1\n", "", "", "", ""},
		{"embedder:\n  timeout: 10\n  batch_size: 1e9\n", "", "", "", ""},
		{"retrieval:\n  decline_below: .nan\n  top_k: 99999999999999999999\n", "", "", "", ""},
		{"a: &x {b: *x}\n", "", "", "", ""},
		{"discord: &d\n  guild_ids: [\"1\"]\nknowledge: *d\n", "", "", "", ""},
		{"<<: {log: {level: debug}}\n", "", "", "", ""},
		{"log:\n  level: debug\n---\nlog:\n  level: info\n", "", "", "", ""},
		{"discord:\n  guild_ids: \"123\"\n  moderator_role_ids: [[1], {a: 1}]\n", "", "", "", ""},
		{"null\n", "", "", "", ""},
		{"[]\n", "", "", "", ""},
		{"\xef\xbb\xbflog: {level: warn}\n", "", "", "", ""},
		{"log: {level: \xff}\n", "", "", "", ""},
		{"knowledge:\n  watch: true\nhttp:\n  metrics_addr: \":99999\"\n", "", "", "", ""},
		{strings.Repeat("[", 5000), "", "", "", ""},
	}
	for i, s := range seeds {
		f.Add([]byte(s.yaml), index(s.var1), s.val1, index(s.var2), s.val2, uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, var1 uint8, val1 string, var2 uint8, val2 string, form uint8) {
		token := tokenForms[int(form)%len(tokenForms)]
		data = []byte(strings.ReplaceAll(string(data), "$TOKEN", fuzzToken))
		vars := map[string]string{"DISCORD_TOKEN": token}
		for _, v := range []struct {
			i   uint8
			val string
		}{{var1, val1}, {var2, val2}} {
			name := "STORYBOT_DISCORD_TOKEN" // past the names: the variable that must be refused
			if int(v.i) < len(names) {
				name = names[v.i]
			}
			vars[name] = strings.ReplaceAll(v.val, "$TOKEN", fuzzToken)
		}
		getenv := func(k string) string { return vars[k] }
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}

		c, err := Load(path, getenv)
		c2, err2 := Load(path, getenv)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("two loads differ: %v / %v", err, err2)
		}
		if err != nil {
			if leak := tokenPiece(err.Error()); leak != "" {
				t.Fatalf("the error shows the token (%q): %v", leak, err)
			}
			return
		}
		if !reflect.DeepEqual(stripped(c), stripped(c2)) {
			t.Fatalf("two loads differ:\n%+v\n%+v", stripped(c), stripped(c2))
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load returned a config that Validate refuses: %v", err)
		}
		tok, err := c.Token(getenv)
		if err != nil {
			if leak := tokenPiece(err.Error()); leak != "" {
				t.Fatalf("the token error shows the token (%q): %v", leak, err)
			}
			return
		}
		if tok != fuzzToken {
			t.Fatalf("Token() = %q from DISCORD_TOKEN %q", tok, token)
		}
	})
}

// tokenPiece returns a run of at least secretFragment characters of
// fuzzToken found in s, or "".
func tokenPiece(s string) string {
	for i := 0; i+secretFragment <= len(fuzzToken); i++ {
		if piece := fuzzToken[i : i+secretFragment]; strings.Contains(s, piece) {
			return piece
		}
	}
	return ""
}
