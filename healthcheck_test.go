package main

import (
	"debug/elf"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"storybot/metrics"
)

func TestHealthcheck(t *testing.T) {
	srv := httptest.NewServer(metrics.New().Handler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	if out, _, err := runEnv(t, nil, "healthcheck", "--url", srv.URL+"/healthz"); err != nil || out != "ok\n" {
		t.Errorf("--url: %q, %v", out, err)
	}
	// The address comes from the environment, as in the container.
	if _, _, err := runEnv(t, map[string]string{"STORYBOT_HTTP_METRICS_ADDR": addr}, "healthcheck"); err != nil {
		t.Errorf("from STORYBOT_HTTP_METRICS_ADDR: %v", err)
	}
	// Or from the config file.
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("http: {metrics_addr: \""+addr+"\"}\n"), 0o600)
	if _, _, err := runEnv(t, nil, "healthcheck", "--config", cfg); err != nil {
		t.Errorf("from --config: %v", err)
	}
	if _, _, err := runEnv(t, map[string]string{"STORYBOT_CONFIG": cfg}, "healthcheck"); err != nil {
		t.Errorf("from STORYBOT_CONFIG: %v", err)
	}
	// Not ready is not healthy when that is what is asked.
	if _, _, err := runEnv(t, nil, "healthcheck", "--url", srv.URL+"/readyz"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("/readyz before ready: %v", err)
	}
	// Nothing listening.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, _, err := runEnv(t, nil, "healthcheck", "--url", closed.URL+"/healthz"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("nothing listening: %v", err)
	}
	if _, _, err := runEnv(t, map[string]string{"STORYBOT_HTTP_METRICS_ADDR": ""}, "healthcheck", "--config", writeFile(t, "http: {metrics_addr: \"\"}\n")); err == nil || !strings.Contains(err.Error(), "metrics_addr is empty") {
		t.Errorf("metrics off: %v", err)
	}
	if out, _, err := runEnv(t, nil, "healthcheck", "--help"); err != nil || !strings.Contains(out, "Usage: storybot healthcheck") {
		t.Errorf("--help: %q, %v", out, err)
	}
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHealthURL(t *testing.T) {
	for addr, want := range map[string]string{
		":9090":          "http://127.0.0.1:9090/healthz",
		"0.0.0.0:9191":   "http://127.0.0.1:9191/healthz",
		"[::]:9090":      "http://[::1]:9090/healthz",
		"10.0.0.5:9090":  "http://10.0.0.5:9090/healthz",
		"localhost:9090": "http://localhost:9090/healthz",
	} {
		if got, err := healthURL(addr); err != nil || got != want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
}

// dockerBuild is the build command in the Dockerfile; the test below runs
// the same, so the image's binary is the one tested.
const dockerBuild = `CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o /out/storybot .`

// The container test, without Docker: build the static binary the
// Dockerfile builds, check it links nothing dynamically, and run the
// HEALTHCHECK's command from it.
func TestStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{dockerBuild, "FROM gcr.io/distroless/static-debian12:nonroot", `HEALTHCHECK`, `CMD ["/storybot", "healthcheck"]`,
		`VOLUME ["/data", "/knowledge"]`, "USER nonroot", `ENTRYPOINT ["/storybot"]`, "EXPOSE 8080 9090"} {
		if !strings.Contains(string(dockerfile), want) {
			t.Errorf("the Dockerfile has no %s", want)
		}
	}
	if _, err := os.Stat(".dockerignore"); err != nil {
		t.Error(err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	bin := filepath.Join(t.TempDir(), "storybot")
	// -buildvcs=false: a VCS revision stamped by the go command would
	// stand in for the -X one (version.go), and whether it is stamped
	// depends on the machine's GOFLAGS and on git.
	build := exec.Command(goTool, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -X main.version=test-1.2.3 -X main.revision=abc123", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader; distroless/static has none")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v", libs)
	}

	out, err := exec.Command(bin, "healthcheck", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Usage: storybot healthcheck") {
		t.Errorf("healthcheck --help: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "storybot test-1.2.3") || !strings.Contains(string(out), "revision abc123") {
		t.Errorf("version: %v\n%s", err, out)
	}
	// -trimpath: no path of this machine is in the binary.
	data, _ := os.ReadFile(bin)
	if wd, _ := os.Getwd(); strings.Contains(string(data), wd) {
		t.Errorf("the binary contains the build directory %s", wd)
	}
	// With nothing listening, the healthcheck fails (exit status 1).
	cmd := exec.Command(bin, "healthcheck", "--url", "http://127.0.0.1:1/healthz")
	if err := cmd.Run(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("healthcheck against nothing: %v", err)
	}
}
