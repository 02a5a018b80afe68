package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/bwmarrin/discordgo"
)

// commandRegistry keeps the application commands the bot registered, per
// guild ("" is global), so interactions can carry the ids Discord assigned.
type commandRegistry struct {
	mu   sync.Mutex
	cmds map[string][]map[string]any
}

func (r *commandRegistry) init() { r.cmds = map[string][]map[string]any{} }

// Commands returns the commands last bulk-overwritten for guildID ("" for
// global ones), as Discord echoed them.
func (f *Fake) Commands(guildID string) []*discordgo.ApplicationCommand {
	f.cmds.mu.Lock()
	b, _ := json.Marshal(f.cmds.cmds[guildID])
	f.cmds.mu.Unlock()
	var out []*discordgo.ApplicationCommand
	_ = json.Unmarshal(b, &out)
	return out
}

// commandID is the id of a registered command, or a fresh one.
func (f *Fake) commandID(guildID, name string, typ discordgo.ApplicationCommandType) string {
	f.cmds.mu.Lock()
	defer f.cmds.mu.Unlock()
	for _, scope := range []string{guildID, ""} {
		for _, c := range f.cmds.cmds[scope] {
			if c["name"] == name && c["type"] == float64(typ) {
				return c["id"].(string)
			}
		}
	}
	return NewSnowflake()
}

func missingAccess() Response { return ErrorResponse(http.StatusForbidden, 50001, "Missing Access") }

// servePutCommands is the bulk overwrite: the body replaces the scope's
// commands, and Discord answers with them, ids and defaults filled in. A
// command keeps its id when one of the same name and type existed.
func (f *Fake) servePutCommands(req *Request) Response {
	if req.Params["app"] != f.cfg.AppID {
		return missingAccess()
	}
	var in []map[string]any
	if err := json.Unmarshal(req.Body, &in); err != nil {
		return invalidForm("body must be an array of application commands")
	}
	if resp, bad := checkCommands(in); bad {
		return resp
	}
	guild := req.Params["guild"]
	version := NewSnowflake()

	f.cmds.mu.Lock()
	defer f.cmds.mu.Unlock()
	old := f.cmds.cmds[guild]
	out := make([]map[string]any, 0, len(in))
	for i, c := range in {
		name, _ := c["name"].(string)
		if name == "" {
			return invalidForm(fmt.Sprintf("command %d: name is required", i))
		}
		typ, _ := c["type"].(float64)
		if typ == 0 {
			typ = float64(discordgo.ChatApplicationCommand)
		}
		cmd := map[string]any{
			"id":                         NewSnowflake(),
			"application_id":             f.cfg.AppID,
			"version":                    version,
			"type":                       typ,
			"name":                       name,
			"name_localizations":         nil,
			"description":                "",
			"description_localizations":  nil,
			"default_member_permissions": nil,
			"nsfw":                       false,
			"integration_types":          []any{0.0},
		}
		if guild != "" {
			cmd["guild_id"] = guild
		} else {
			cmd["dm_permission"] = true
			cmd["contexts"] = nil
		}
		for _, k := range []string{"name_localizations", "description", "description_localizations",
			"options", "dm_permission", "nsfw", "contexts", "integration_types"} {
			if v, ok := c[k]; ok && v != nil {
				cmd[k] = v
			}
		}
		// Discord returns permissions as a string whichever way they came.
		switch v := c["default_member_permissions"].(type) {
		case string:
			cmd["default_member_permissions"] = v
		case float64:
			cmd["default_member_permissions"] = fmt.Sprintf("%.0f", v)
		}
		for _, o := range old {
			if o["name"] == name && o["type"] == typ {
				cmd["id"] = o["id"]
			}
		}
		out = append(out, cmd)
	}
	f.cmds.cmds[guild] = out
	return jsonResponse(http.StatusOK, out)
}

func (f *Fake) serveListCommands(req *Request) Response {
	if req.Params["app"] != f.cfg.AppID {
		return missingAccess()
	}
	f.cmds.mu.Lock()
	defer f.cmds.mu.Unlock()
	cmds := f.cmds.cmds[req.Params["guild"]]
	if cmds == nil {
		cmds = []map[string]any{}
	}
	return jsonResponse(http.StatusOK, cmds)
}
