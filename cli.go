package main

import (
	"errors"
	"flag"
	"io"
)

// newFlagSet makes a command's flag set; errors and usage go to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// errHelp means --help was asked for and the usage has been printed: the
// command succeeds without doing anything else.
var errHelp = errors.New("help shown")

// parseArgs parses flags that may come before or after positional arguments
// ("ask 'who?' --json" as well as "ask --json 'who?'"). A flag mistake is a
// usage error; --help is errHelp.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageError("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// helpIsDone turns errHelp into success: the usage is already printed.
func helpIsDone(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// parseNoArgs parses the flags of a command that takes no positional
// arguments. done is true when the command should stop with err (nil after
// --help).
func parseNoArgs(fs *flag.FlagSet, args []string) (done bool, err error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return true, helpIsDone(err)
	}
	if len(pos) > 0 {
		return true, usageError("%s takes no arguments, got %q", fs.Name(), pos[0])
	}
	return false, nil
}

// configEnv names the config file when --config is not given, so a
// container can set it once for serve, index and healthcheck alike.
const configEnv = "STORYBOT_CONFIG"

// configFlagUsage describes --config for the commands that run from a config.
const configFlagUsage = "YAML config file (default $STORYBOT_CONFIG; without either: defaults and STORYBOT_* variables)"

// configPath is --config, else $STORYBOT_CONFIG, else "" (defaults and
// STORYBOT_* variables only).
func configPath(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	return getenv(configEnv)
}
