package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every variable that overrides a setting:
// STORYBOT_<SECTION>_<KEY>, e.g. STORYBOT_LIMITS_CONCURRENCY, or
// STORYBOT_<KEY> for top-level keys (STORYBOT_DATA_DIR).
const EnvPrefix = "STORYBOT_"

// Load reads the YAML file at path (none if path is ""), applies STORYBOT_*
// overrides from getenv (os.Getenv if nil) and validates the result.
// Unknown keys are errors with their line, so a typo never silently falls
// back to a default.
//
// No error holds the Discord token (DISCORD_TOKEN) or a piece of it, even
// when it was pasted into the file or a variable by mistake: errors quote
// the values they are about, and end up in logs.
func Load(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c, err := load(path, getenv)
	if err != nil {
		return nil, redactToken(err, getenv("DISCORD_TOKEN"))
	}
	return c, nil
}

func load(path string, getenv func(string) string) (*Config, error) {
	c := Default()
	c.getenv = getenv
	c.origin = map[string]string{}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("load config: %w", err)
		}
		if err := c.decode(data); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return nil, fmt.Errorf("config from environment: %w", err)
	}
	if err := c.Validate(); err != nil {
		if path != "" {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// decode fills c from a YAML document. The keys are checked against Config
// first, by hand, so every mistake is reported at once with its line, key,
// value and the allowed form; the decoder's own messages name neither the
// key nor what would be allowed.
func (c *Config) decode(data []byte) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file: all defaults
		}
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return err
		}
		return fmt.Errorf("line %d: a second YAML document (after \"---\"); the config is one document", extra.Line)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if err := checkNode(root, reflect.TypeFor[Config](), "", c.origin); err != nil {
		return err
	}
	// The check above has vetted every key and value; the decoder now
	// only copies them. KnownFields stays on as a second guard.
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(c); err != nil {
		return err
	}
	return nil
}

var durationType = reflect.TypeFor[Duration]()

// checkNode checks node against type t. path is the dotted key of node;
// origin records the line of every key seen, for later messages.
func checkNode(node *yaml.Node, t reflect.Type, path string, origin map[string]string) error {
	if node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	switch {
	case t.Kind() == reflect.Struct && t != durationType:
		if node.Tag == "!!null" {
			return nil
		}
		if node.Kind != yaml.MappingNode {
			where := "the file"
			if path != "" {
				where = path
			}
			return fmt.Errorf("line %d: %s must be a mapping of keys (key: value lines), not %s", node.Line, where, describe(node))
		}
		var errs []error
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			if k.Value == "<<" {
				errs = append(errs, fmt.Errorf("line %d: merge keys (<<) are not supported in the config", k.Line))
				continue
			}
			key := join(path, k.Value)
			f, ok := fieldByTag(t, k.Value)
			if !ok {
				errs = append(errs, unknownKey(k, path, t))
				continue
			}
			origin[key] = "line " + strconv.Itoa(k.Line)
			if err := checkNode(v, f.Type, key, origin); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	case t.Kind() == reflect.Slice:
		if node.Tag == "!!null" {
			return nil
		}
		if node.Kind != yaml.SequenceNode {
			return fmt.Errorf("line %d: %s: %s is not a list; write [\"123\", \"456\"] or one \"- 123\" line per item", node.Line, path, describe(node))
		}
		var errs []error
		for i, item := range node.Content {
			origin[fmt.Sprintf("%s[%d]", path, i)] = "line " + strconv.Itoa(item.Line)
			if err := checkNode(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), origin); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	// A leaf: let yaml convert it into a value of the field's type, and
	// explain what is allowed if it cannot.
	if node.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %s: %s is not allowed; want %s", node.Line, path, describe(node), want(t))
	}
	if err := node.Decode(reflect.New(t).Interface()); err != nil {
		return fmt.Errorf("line %d: %s: %q is not allowed; want %s", node.Line, path, clip(node.Value), want(t))
	}
	return nil
}

func unknownKey(k *yaml.Node, section string, t reflect.Type) error {
	if section == "discord" && (k.Value == "token" || k.Value == "bot_token") {
		return fmt.Errorf("line %d: discord.%s: the token is never read from the config file; set DISCORD_TOKEN or discord.token_file", k.Line, k.Value)
	}
	where := "at the top level"
	if section != "" {
		where = "in " + section
	}
	return fmt.Errorf("line %d: unknown key %q %s; known keys: %s", k.Line, clip(k.Value), where, strings.Join(tags(t), ", "))
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(clip(n.Value))
}

// want says in words what a field of type t accepts.
func want(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration with a unit, like 10s, 1m or 500ms"
	case t.Kind() == reflect.Int:
		return "a whole number"
	case t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.String:
		return "a single value (quote it)"
	}
	return t.String()
}

// clip keeps messages readable when someone pastes a paragraph into a value.
func clip(s string) string {
	const n = 60
	s = tokenShaped.ReplaceAllString(s, "<redacted: shaped like a Discord token>")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// tokenShaped matches a Discord bot token (three base64url parts joined by
// dots), wherever one is pasted by mistake: an error about a value must
// not echo it.
var tokenShaped = regexp.MustCompile(`[A-Za-z0-9_-]{17,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}`)

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if yamlTag(f) == tag {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlTag(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func tags(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if tag := yamlTag(f); tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}

// applyEnv overrides settings from STORYBOT_* variables. An empty variable
// counts as unset.
func (c *Config) applyEnv(getenv func(string) string) error {
	if getenv(EnvPrefix+"DISCORD_TOKEN") != "" {
		return errors.New(EnvPrefix + "DISCORD_TOKEN is not read: the token comes only from DISCORD_TOKEN or discord.token_file (" + EnvPrefix + "DISCORD_TOKEN_FILE)")
	}
	var errs []error
	for _, f := range envFields(reflect.ValueOf(c).Elem(), "") {
		raw := getenv(f.name)
		if raw == "" {
			continue
		}
		if err := setFromEnv(f.v, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %q is not allowed; want %s", f.name, f.key, clip(raw), err))
			continue
		}
		for k := range c.origin {
			if strings.HasPrefix(k, f.key+"[") {
				delete(c.origin, k)
			}
		}
		c.origin[f.key] = f.name
	}
	return errors.Join(errs...)
}

// EnvNames maps every variable that overrides a setting to its key, for
// documentation and tests.
func EnvNames() map[string]string {
	m := map[string]string{}
	for _, f := range envFields(reflect.ValueOf(Default()).Elem(), "") {
		m[f.name] = f.key
	}
	return m
}

// envField is one setting a variable can override.
type envField struct {
	name, key string
	v         reflect.Value
}

// envFields lists every leaf setting under v with its variable name.
func envFields(v reflect.Value, path string) []envField {
	var out []envField
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := yamlTag(f)
		if tag == "" || tag == "-" {
			continue
		}
		key := join(path, tag)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			out = append(out, envFields(v.Field(i), key)...)
			continue
		}
		out = append(out, envField{EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_")), key, v.Field(i)})
	}
	return out
}

// setFromEnv parses raw into v. Its error says what is allowed.
func setFromEnv(v reflect.Value, raw string) error {
	raw = strings.TrimSpace(raw)
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return errors.New(want(durationType))
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return errors.New(want(v.Type()))
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return errors.New(want(v.Type()))
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New(want(v.Type()))
		}
		v.SetBool(b)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var items []string
		for s := range strings.SplitSeq(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		v.Set(reflect.ValueOf(items))
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Int:
		var items []int
		for s := range strings.SplitSeq(raw, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			n, err := strconv.Atoi(s)
			if err != nil {
				return errors.New("a comma-separated list of whole numbers")
			}
			items = append(items, n)
		}
		v.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("a value of type %s (unsupported in the environment)", v.Type())
	}
	return nil
}

// UnmarshalYAML reads "10s"-style durations. A bare number is refused: is
// "10" seconds or milliseconds?
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a duration", n.Line)}}
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration", n.Line, clip(n.Value))}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back the way it is read.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// String is the duration as "10s".
func (d Duration) String() string { return time.Duration(d).String() }

// where names a key for a message: its line in the file or the variable it
// came from, when known.
func (c *Config) where(key string) string {
	o := c.origin[key]
	if o == "" {
		// A list item inherits its list's origin.
		if base, _, ok := strings.Cut(key, "["); ok {
			o = c.origin[base]
		}
	}
	switch {
	case o == "":
		return key
	case strings.HasPrefix(o, EnvPrefix):
		return o + " (" + key + ")"
	}
	return o + ": " + key
}

// secretFragment is how many characters of the token make a recognisable
// piece of it. Errors quote values cut to 60 bytes, so removing only the
// whole token would let most of one through.
const secretFragment = 12

// redactToken replaces every run of at least secretFragment characters of
// token in err's message. A token shorter than 8 characters is not a real
// one, and redacting it would garble ordinary words. The redacted error
// does not wrap err, whose message still holds the token.
func redactToken(err error, token string) error {
	token = strings.TrimSpace(token)
	n := min(secretFragment, len(token))
	if n < 8 {
		return err
	}
	msg := err.Error()
	var b strings.Builder
	redacted := false
	for i := 0; i < len(msg); {
		l := 0
		for j := i + n; j <= len(msg) && strings.Contains(token, msg[i:j]); j++ {
			l = j - i
		}
		if l == 0 {
			b.WriteByte(msg[i])
			i++
			continue
		}
		b.WriteString("[the Discord token]")
		i += l
		redacted = true
	}
	if !redacted {
		return err
	}
	return errors.New(b.String())
}
