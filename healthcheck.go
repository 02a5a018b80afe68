package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"storybot/config"
)

// runHealthcheck asks a running storybot's /healthz and fails unless it
// answers 200. It is the container's HEALTHCHECK: the distroless image has
// no shell or curl, so the binary checks itself.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("healthcheck", stderr)
	url := fs.String("url", "", "URL to check (default: /healthz on http.metrics_addr, from --config and STORYBOT_HTTP_METRICS_ADDR)")
	cfgPath := fs.String("config", "", "YAML config file to read http.metrics_addr from (default $STORYBOT_CONFIG)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	fs.Usage = func() {
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, "Usage: storybot healthcheck [--url URL] [--config FILE] [--timeout 3s]\n\nExits 0 if storybot's health endpoint answers 200, 1 otherwise.\n\n")
		fs.PrintDefaults()
	}
	if done, err := parseNoArgs(fs, args); done || err != nil {
		return err
	}
	target := *url
	if target == "" {
		cfg, err := config.Load(configPath(*cfgPath, getenv), getenv)
		if err != nil {
			return err
		}
		if target, err = healthURL(cfg.HTTP.MetricsAddr); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return usageError("healthcheck --url: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", target, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// healthURL turns a listen address into the URL to check it on: a wildcard
// host (":9090", "0.0.0.0:9090") is reached on the loopback address.
func healthURL(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("healthcheck: http.metrics_addr is empty, so there is no health endpoint; set it or pass --url")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("healthcheck: http.metrics_addr %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
