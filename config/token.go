package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxTokenFile bounds the token file: a token is under 100 bytes, so
// anything large is the wrong file and must not be read into memory.
const maxTokenFile = 4096

// Token is the Discord bot token: DISCORD_TOKEN if set, else the contents
// of discord.token_file. A leading "Bot " is removed. Errors name where the
// token was looked for and never contain it.
func (c *Config) Token(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if t := getenv("DISCORD_TOKEN"); strings.TrimSpace(t) != "" {
		return checkToken(t, "DISCORD_TOKEN")
	}
	path := c.Discord.TokenFile
	if path == "" {
		return "", errors.New("no Discord token: set DISCORD_TOKEN, or point discord.token_file (" + EnvPrefix + "DISCORD_TOKEN_FILE) at a file holding it")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", c.where("discord.token_file"), err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("%s: read %s: %w", c.where("discord.token_file"), path, err)
	}
	if len(data) > maxTokenFile {
		return "", fmt.Errorf("%s: %s is larger than %d bytes; it should hold only the token", c.where("discord.token_file"), path, maxTokenFile)
	}
	return checkToken(string(data), "discord.token_file "+path)
}

// checkToken trims the token and refuses one that cannot be a token, such as
// a file with two lines. The message says where, never what.
func checkToken(t, from string) (string, error) {
	t = strings.TrimSpace(t)
	t = strings.TrimSpace(strings.TrimPrefix(t, "Bot "))
	if t == "" {
		return "", fmt.Errorf("the Discord token in %s is empty", from)
	}
	if strings.IndexFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return "", fmt.Errorf("the Discord token in %s contains spaces, line breaks or control characters; it must be the token alone", from)
	}
	return t, nil
}
