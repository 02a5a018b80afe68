package discordtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	vErrors "github.com/pb33f/libopenapi-validator/errors"
)

// Discord's OpenAPI spec of its v10 HTTP API (specs/openapi.json of
// github.com/discord/discord-api-spec) is not ours to commit: it is read
// from SpecEnv, or from ../shared/discord/openapi.json beside the module's
// root. Without it the spec check checks nothing, and says so (SpecAvailable,
// RequireSpec); the fake's own request-time checks still run.
const SpecEnv = "STORYBOT_DISCORD_SPEC"

// ErrNoSpec is wrapped by the error SpecAvailable returns when the spec
// file is absent.
var ErrNoSpec = errors.New("Discord's OpenAPI spec is absent")

// specPath is where the spec is read from.
func specPath() (string, error) {
	if p := os.Getenv(SpecEnv); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("discordtest: find the spec: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "discord", "openapi.json"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("discordtest: no go.mod above the working directory; set %s", SpecEnv)
		}
		dir = parent
	}
}

func readSpec() ([]byte, error) {
	p, err := specPath()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("discordtest: %w: no %s (set %s to its path): %w", ErrNoSpec, p, SpecEnv, err)
	}
	if err != nil {
		return nil, fmt.Errorf("discordtest: read the spec: %w", err)
	}
	return b, nil
}

// SpecAvailable is nil when the spec check can run, or says what is
// missing (errors.Is ErrNoSpec) or broken.
func SpecAvailable() error {
	_, err := loadSpec()
	return err
}

// RequireSpec skips tb, saying what is missing, when the spec is absent.
func RequireSpec(tb testing.TB) {
	tb.Helper()
	if err := SpecAvailable(); errors.Is(err, ErrNoSpec) {
		tb.Skipf("spec check skipped: %v", err)
	}
}

// specServer is the spec's only server; requests are mapped onto it.
const specServer = "https://discord.com/api/v10"

// The spec is 1.2 MB and takes a while to build, so each test binary
// builds it once. The validator is used under a lock: it keeps caches and
// we have not audited it for concurrent use.
var spec struct {
	once sync.Once
	v    validator.Validator
	err  error
	took time.Duration
	mu   sync.Mutex
}

func loadSpec() (validator.Validator, error) {
	spec.once.Do(func() {
		start := time.Now()
		defer func() { spec.took = time.Since(start) }()
		specJSON, err := readSpec()
		if err != nil {
			spec.err = err
			return
		}
		b, err := withoutResponses(specJSON)
		if err != nil {
			spec.err = err
			return
		}
		doc, err := libopenapi.NewDocument(b)
		if err != nil {
			spec.err = fmt.Errorf("discordtest: parse openapi spec: %w", err)
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			spec.err = fmt.Errorf("discordtest: build spec validator: %v", errs)
			return
		}
		spec.v = v
	})
	return spec.v, spec.err
}

// withoutResponses drops every operation's response schemas. We only
// validate requests, and the validator pre-compiles every schema it is
// given: responses were most of the build time (about 6s -> 1.5s plain,
// 41s -> 7.5s under -race).
func withoutResponses(specJSON []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(specJSON, &doc); err != nil {
		return nil, fmt.Errorf("discordtest: decode openapi spec: %w", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			if o, ok := op.(map[string]any); ok && method != "parameters" {
				o["responses"] = map[string]any{"default": map[string]any{"description": "not checked"}}
			}
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("discordtest: encode openapi spec: %w", err)
	}
	return b, nil
}

// SpecLoadTime builds the spec validator if needed and reports how long
// building took in this test binary.
func SpecLoadTime() (time.Duration, error) {
	_, err := loadSpec()
	return spec.took, err
}

// SpecError is a recorded request that Discord's spec rejects.
type SpecError struct {
	Request  Request
	Problems []string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("discordtest: %s %s breaks Discord's API spec: %s",
		e.Request.Method, e.Request.Path, strings.Join(e.Problems, "; "))
}

// SpecErrors checks every request recorded so far; see CheckRequests.
func (f *Fake) SpecErrors() []error { return CheckRequests(f.Requests()) }

// CheckRequests validates requests against Discord's OpenAPI spec: the
// path must exist, the method be allowed there, and the query and JSON body
// match the schema. /api/v9/... paths are checked as the spec's v10 ones.
// Any path outside /api/v9 or /api/v10 is an error. The one tolerated
// deviation is the spec's integer type for default_member_permissions (see
// testdata/README.md). It returns one *SpecError per bad request. When
// the spec is absent it checks nothing (see SpecAvailable).
func CheckRequests(reqs []Request) []error {
	v, err := loadSpec()
	if errors.Is(err, ErrNoSpec) {
		return nil
	}
	if err != nil {
		return []error{err}
	}
	var out []error
	for _, r := range reqs {
		if problems := checkRequest(v, r); len(problems) > 0 {
			out = append(out, &SpecError{Request: r, Problems: problems})
		}
	}
	return out
}

func checkRequest(v validator.Validator, r Request) []string {
	var rest string
	switch {
	case strings.HasPrefix(r.Path, "/api/v9/"):
		rest = strings.TrimPrefix(r.Path, "/api/v9")
	case strings.HasPrefix(r.Path, "/api/v10/"):
		rest = strings.TrimPrefix(r.Path, "/api/v10")
	default:
		return []string{"not a Discord API v9/v10 path"}
	}
	u := specServer + rest
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	body, header := r.Body, r.Header.Clone()
	if r.isMultipart() {
		// The spec's multipart schema is its JSON schema plus files[n]:
		// the payload_json part is checked as that JSON.
		var err error
		if body, err = r.JSON(); err != nil {
			return []string{"multipart body: " + err.Error()}
		}
		header.Set("Content-Type", "application/json")
	}
	hr, err := http.NewRequest(r.Method, u, bytes.NewReader(body))
	if err != nil {
		return []string{"build request: " + err.Error()}
	}
	hr.Header = header

	spec.mu.Lock()
	_, verrs := v.ValidateHttpRequestSync(hr)
	spec.mu.Unlock()

	var problems []string
	for _, ve := range verrs {
		problems = append(problems, describe(ve, body)...)
	}
	return problems
}

// describe renders one validation error, minus the tolerated quirk. An
// error whose every schema failure is the quirk disappears.
func describe(ve *vErrors.ValidationError, body []byte) []string {
	if len(ve.SchemaValidationErrors) == 0 {
		return []string{ve.Message + ": " + ve.Reason}
	}
	var failures []string
	for _, sf := range ve.SchemaValidationErrors {
		if isPermissionsQuirk(sf, body) {
			continue
		}
		s := sf.Reason
		if sf.FieldPath != "" {
			s += " at " + sf.FieldPath
		}
		failures = append(failures, s)
	}
	if len(failures) == 0 {
		return nil
	}
	return []string{ve.Message + ": " + strings.Join(failures, ", ")}
}

// digits is how Discord writes a permission bit set: a decimal string.
var digits = regexp.MustCompile(`^[0-9]+$`)

// isPermissionsQuirk reports whether sf is the spec's known error on
// default_member_permissions: the spec says integer, Discord's docs and
// discordgo send a string of digits ("32"). Only a type failure on that
// exact field, whose value in the body really is such a string, qualifies.
func isPermissionsQuirk(sf *vErrors.SchemaValidationFailure, body []byte) bool {
	path := sf.InstancePath
	if len(path) == 0 || path[len(path)-1] != "default_member_permissions" {
		return false
	}
	if !strings.HasSuffix(sf.KeywordLocation, "/default_member_permissions/type") {
		return false
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return false
	}
	for _, seg := range path {
		switch node := doc.(type) {
		case map[string]any:
			doc = node[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(node) {
				return false
			}
			doc = node[i]
		default:
			return false
		}
	}
	s, ok := doc.(string)
	return ok && digits.MatchString(s)
}
