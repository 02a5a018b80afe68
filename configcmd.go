package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"storybot/config"
)

const configUsage = `Usage: storybot config check FILE

Loads FILE with the STORYBOT_* overrides from the environment, validates
every setting and prints "ok", or every mistake with its line or variable.
Nothing is started.
`

func runConfig(_ context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage)
		return usageError("config needs a subcommand: check")
	}
	switch args[0] {
	case "check":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, configUsage)
		return nil
	default:
		fmt.Fprint(stderr, configUsage)
		return usageError("unknown config subcommand %q", args[0])
	}
	fs := newFlagSet("config check", stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), configUsage) }
	pos, err := parseArgs(fs, args[1:])
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("config check needs exactly one FILE, got %d arguments", len(pos))
	}
	if _, err := config.Load(pos[0], getenv); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: %s is valid\n", pos[0])
	return nil
}
