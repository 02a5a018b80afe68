package discordtest

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Discord refuses, at request time, bodies its documented limits forbid,
// with 50035 Invalid Form Body and a tree of errors naming each field
// (or 50006 for an empty message). The fake does the same, so a test
// fails on the request that Discord would fail, not later in a spec check.
// The limits are Discord's (https://discord.com/developers/docs): message
// content 2,000 characters; 10 embeds whose text totals 6,000; an embed's
// title 256, description 4,096, 25 fields of name 256 and value 1,024
// (neither blank), footer 2,048, author 256; 5 action rows of 5
// components, custom_ids of at most 100 characters unique in the message,
// button labels 80. Commands: chat-input names lower-case
// ^[-_'\p{L}\p{N}]{1,32}$ with a description of 1-100; context-menu
// commands with no description; required options before optional ones.

// formErrors is the "errors" tree of a 50035 response.
type formErrors map[string]any

// add records code and message at path (field names and list indexes).
func (e formErrors) add(path []string, code, message string) {
	node := map[string]any(e)
	for _, p := range path {
		next, _ := node[p].(map[string]any)
		if next == nil {
			next = map[string]any{}
			node[p] = next
		}
		node = next
	}
	errs, _ := node["_errors"].([]any)
	node["_errors"] = append(errs, map[string]any{"code": code, "message": message})
}

func (e formErrors) response() (Response, bool) {
	if len(e) == 0 {
		return Response{}, false
	}
	return jsonResponse(http.StatusBadRequest, map[string]any{
		"code": 50035, "message": "Invalid Form Body", "errors": map[string]any(e),
	}), true
}

// path joins a base path and more segments into a new slice.
func path(base []string, more ...any) []string {
	out := append([]string(nil), base...)
	for _, m := range more {
		switch v := m.(type) {
		case string:
			out = append(out, v)
		case int:
			out = append(out, strconv.Itoa(v))
		}
	}
	return out
}

func emptyMessage() Response {
	return ErrorResponse(http.StatusBadRequest, 50006, "Cannot send an empty message")
}

func (e formErrors) maxLen(p []string, s string, n int) {
	if utf8.RuneCountInString(s) > n {
		e.add(p, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", n))
	}
}

func (e formErrors) required(p []string, s string, n int) {
	switch {
	case strings.TrimSpace(s) == "":
		e.add(p, "BASE_TYPE_REQUIRED", "This field is required")
	default:
		e.maxLen(p, s, n)
	}
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func list(m map[string]any, k string) []any { l, _ := m[k].([]any); return l }

// checkMessage validates a message body (a type 4 or 7 callback's data, a
// followup, an edit) at base. It returns the response to refuse it with.
func checkMessage(body map[string]any, base []string) (Response, bool) {
	e := formErrors{}
	e.maxLen(path(base, "content"), str(body, "content"), 2000)

	embeds := list(body, "embeds")
	if len(embeds) > 10 {
		e.add(path(base, "embeds"), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
	}
	total := 0
	for i, v := range embeds {
		em, _ := v.(map[string]any)
		p := path(base, "embeds", i)
		count := func(s string) int { n := utf8.RuneCountInString(s); total += n; return n }
		count(str(em, "title"))
		e.maxLen(path(p, "title"), str(em, "title"), 256)
		count(str(em, "description"))
		e.maxLen(path(p, "description"), str(em, "description"), 4096)
		if f, _ := em["footer"].(map[string]any); f != nil {
			count(str(f, "text"))
			e.maxLen(path(p, "footer", "text"), str(f, "text"), 2048)
		}
		if a, _ := em["author"].(map[string]any); a != nil {
			count(str(a, "name"))
			e.maxLen(path(p, "author", "name"), str(a, "name"), 256)
		}
		fields := list(em, "fields")
		if len(fields) > 25 {
			e.add(path(p, "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		}
		for j, fv := range fields {
			fl, _ := fv.(map[string]any)
			count(str(fl, "name"))
			count(str(fl, "value"))
			e.required(path(p, "fields", j, "name"), str(fl, "name"), 256)
			e.required(path(p, "fields", j, "value"), str(fl, "value"), 1024)
		}
	}
	if total > 6000 {
		e.add(path(base, "embeds"), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
	}

	rows := list(body, "components")
	if len(rows) > 5 {
		e.add(path(base, "components"), "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
	}
	seen := map[string]bool{}
	for i, rv := range rows {
		row, _ := rv.(map[string]any)
		comps := list(row, "components")
		if t, _ := row["type"].(float64); t == 1 && (len(comps) < 1 || len(comps) > 5) {
			e.add(path(base, "components", i, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
		}
		for j, cv := range comps {
			c, _ := cv.(map[string]any)
			p := path(base, "components", i, "components", j)
			e.maxLen(path(p, "label"), str(c, "label"), 80)
			id := str(c, "custom_id")
			if id == "" {
				continue
			}
			e.maxLen(path(p, "custom_id"), id, 100)
			if seen[id] {
				e.add(path(p, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
			}
			seen[id] = true
		}
	}
	return e.response()
}

// isEmptyMessage reports whether m has nothing to show.
func isEmptyMessage(m map[string]any) bool {
	if strings.TrimSpace(str(m, "content")) != "" {
		return false
	}
	for _, k := range []string{"embeds", "components", "attachments", "sticker_ids", "files"} {
		if len(list(m, k)) > 0 {
			return false
		}
	}
	_, poll := m["poll"].(map[string]any)
	return !poll
}

// commandName is Discord's rule for chat-input command and option names;
// they must also be lower-case where the script has case.
var commandName = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

func (e formErrors) chatName(p []string, name string) {
	if !commandName.MatchString(name) || strings.ToLower(name) != name {
		e.add(p, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
	}
}

func (e formErrors) description(p []string, d string) {
	if d == "" {
		e.add(p, "BASE_TYPE_REQUIRED", "This field is required")
		return
	}
	if n := utf8.RuneCountInString(d); n > 100 {
		e.add(p, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
	}
}

// checkCommands validates a bulk overwrite.
func checkCommands(cmds []map[string]any) (Response, bool) {
	e := formErrors{}
	if len(cmds) > 100 {
		e.add(nil, "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
	}
	names := map[string]bool{}
	for i, c := range cmds {
		p := path(nil, i)
		name := str(c, "name")
		typ, _ := c["type"].(float64)
		if typ == 0 {
			typ = 1
		}
		key := fmt.Sprintf("%v/%s", typ, name)
		if names[key] {
			e.add(path(p, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
		}
		names[key] = true
		switch typ {
		case 1:
			e.chatName(path(p, "name"), name)
			e.description(path(p, "description"), str(c, "description"))
		default:
			if n := utf8.RuneCountInString(name); n < 1 || n > 32 {
				e.add(path(p, "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
			}
			if str(c, "description") != "" {
				e.add(path(p, "description"), "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION_INVALID", "Context menu commands cannot have description")
			}
			if len(list(c, "options")) > 0 {
				e.add(path(p, "options"), "BASE_TYPE_MAX_LENGTH", "Must be 0 or fewer in length.")
			}
		}
		e.checkOptions(path(p, "options"), list(c, "options"))
	}
	return e.response()
}

func (e formErrors) checkOptions(p []string, opts []any) {
	if len(opts) > 25 {
		e.add(p, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
	}
	optional := false
	for i, ov := range opts {
		o, _ := ov.(map[string]any)
		e.chatName(path(p, i, "name"), str(o, "name"))
		e.description(path(p, i, "description"), str(o, "description"))
		req, _ := o["required"].(bool)
		if req && optional {
			e.add(p, "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options")
		}
		if !req {
			optional = true
		}
		e.checkOptions(path(p, i, "options"), list(o, "options"))
	}
}
