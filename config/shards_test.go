package config

import (
	"strings"
	"testing"
)

func TestShardSettings(t *testing.T) {
	for _, tc := range []struct {
		count string
		ids   []int
		http  bool
		want  string // "" means valid
		n     int
	}{
		{"", nil, false, "", -1},
		{"auto", nil, false, "", 0},
		{"4", []int{0, 3}, false, "", 4},
		{"auto", []int{5}, false, "", 0}, // checked against Discord's count at start
		{"zero", nil, false, "discord.shard_count", 0},
		{"0", nil, false, "discord.shard_count", 0},
		{"2", []int{2}, false, "discord.shard_ids", 2},
		{"2", []int{1, 1}, false, "list each shard once", 2},
		{"", []int{0}, false, "set discord.shard_count too", -1},
		{"2", nil, true, "HTTP interactions", 2},
	} {
		c := Default()
		c.Discord.ShardCount, c.Discord.ShardIDs = tc.count, tc.ids
		if tc.http {
			c.HTTP.InteractionsAddr, c.Discord.PublicKey = ":8080", strings.Repeat("ab", 32)
		}
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q %v: %v", tc.count, tc.ids, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q %v: %v, want an error with %q", tc.count, tc.ids, err, tc.want)
		case tc.want == "" && c.Discord.Shards() != tc.n:
			t.Errorf("%q: Shards() = %d, want %d", tc.count, c.Discord.Shards(), tc.n)
		}
	}
}

func TestShardEnv(t *testing.T) {
	env := map[string]string{"STORYBOT_DISCORD_SHARD_COUNT": "4", "STORYBOT_DISCORD_SHARD_IDS": "0, 2"}
	c, err := Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Discord.Shards() != 4 || len(c.Discord.ShardIDs) != 2 || c.Discord.ShardIDs[1] != 2 {
		t.Errorf("from the environment: %q %v", c.Discord.ShardCount, c.Discord.ShardIDs)
	}
	env["STORYBOT_DISCORD_SHARD_IDS"] = "0,x"
	if _, err := Load("", func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "SHARD_IDS") {
		t.Errorf("bad shard ids: %v", err)
	}
}
