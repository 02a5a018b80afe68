package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Caller is who triggers an interaction, and where.
type Caller struct {
	// GuildID empty means a DM with the bot: the payload then carries
	// "user" and no "member", as Discord sends it.
	GuildID   string
	ChannelID string // default: a fixed channel of the fake
	UserID    string // default: a fixed user of the fake
	Username  string // default "reader"
	// Permissions are the member's permissions in the channel as Discord
	// sends them, a decimal string: "8" is ADMINISTRATOR, "32" MANAGE_GUILD.
	// Default: an ordinary member (view, send, embed, history, commands).
	// Ignored in DMs, which have no member.
	Permissions string
	// AppPermissions are the bot's permissions in the channel, same
	// format. Default: view, send, embed links, history.
	AppPermissions string
	Locale         string // default "en-US"
}

// Payload is an interaction as the JSON values Discord sends, so a test can
// change or delete any field before DispatchInteraction.
type Payload map[string]any

// ID is the interaction id.
func (p Payload) ID() string { s, _ := p["id"].(string); return s }

// Token is the interaction token, which the bot's replies carry in their
// URLs (Request.Params["token"]).
func (p Payload) Token() string { s, _ := p["token"].(string); return s }

// Interaction decodes the payload the way discordgo will.
func (p Payload) Interaction() (*discordgo.Interaction, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("discordtest: marshal payload: %w", err)
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(b, &i); err != nil {
		return nil, fmt.Errorf("discordtest: decode payload: %w", err)
	}
	return &i, nil
}

const (
	memberPermissions = discordgo.PermissionViewChannel | discordgo.PermissionSendMessages |
		discordgo.PermissionEmbedLinks | discordgo.PermissionAttachFiles | discordgo.PermissionAddReactions |
		discordgo.PermissionReadMessageHistory | discordgo.PermissionUseApplicationCommands
	botPermissions = discordgo.PermissionViewChannel | discordgo.PermissionSendMessages |
		discordgo.PermissionEmbedLinks | discordgo.PermissionReadMessageHistory
)

// SlashCommand builds a chat-input command (interaction type 2, data type
// 1). opts are the values the user typed; their Type must be set. The
// command id is the one the bot registered via bulk overwrite, if any.
func (f *Fake) SlashCommand(name string, opts []*discordgo.ApplicationCommandInteractionDataOption, c Caller) Payload {
	data := map[string]any{
		"id":   f.commandID(c.GuildID, name, discordgo.ChatApplicationCommand),
		"name": name,
		"type": int(discordgo.ChatApplicationCommand),
	}
	if len(opts) > 0 {
		data["options"] = jsonValue(opts)
	}
	if c.GuildID != "" {
		data["guild_id"] = c.GuildID
	}
	return f.interaction(discordgo.InteractionApplicationCommand, data, c)
}

// MessageCommand builds a message context-menu command (interaction type
// 2, data type 3) on target, which lands in data.resolved.messages under
// target_id. Zero fields of target get realistic defaults (id, channel,
// author, timestamp).
func (f *Fake) MessageCommand(name string, target *discordgo.Message, c Caller) Payload {
	c = f.withDefaults(c)
	msg := f.userMessage(target, c)
	id := msg["id"].(string)
	data := map[string]any{
		"id":        f.commandID(c.GuildID, name, discordgo.MessageApplicationCommand),
		"name":      name,
		"type":      int(discordgo.MessageApplicationCommand),
		"target_id": id,
		"resolved":  map[string]any{"messages": map[string]any{id: msg}},
	}
	if c.GuildID != "" {
		data["guild_id"] = c.GuildID
	}
	return f.interaction(discordgo.InteractionApplicationCommand, data, c)
}

// Button builds a button click (interaction type 3, component type 2) on
// msg, the bot's message that carries the button. A nil msg gets a bot
// message with one button of that custom id.
func (f *Fake) Button(customID string, msg *discordgo.Message, c Caller) Payload {
	c = f.withDefaults(c)
	var m map[string]any
	if msg == nil {
		m = f.botMessage(c.ChannelID, 0)
		m["components"] = []any{map[string]any{
			"type": 1, "id": 1,
			"components": []any{map[string]any{"type": 2, "id": 2, "style": 1, "label": "Button", "custom_id": customID}},
		}}
	} else {
		m = overlay(f.botMessage(c.ChannelID, 0), jsonValue(msg))
	}
	data := map[string]any{"custom_id": customID, "component_type": int(discordgo.ButtonComponent)}
	p := f.interaction(discordgo.InteractionMessageComponent, data, c)
	p["message"] = m
	return p
}

// interaction wraps data in the fields every interaction has.
func (f *Fake) interaction(typ discordgo.InteractionType, data map[string]any, c Caller) Payload {
	c = f.withDefaults(c)
	id := NewSnowflake()
	user := map[string]any{
		"id": c.UserID, "username": c.Username, "discriminator": "0", "global_name": c.Username,
		"avatar": nil, "public_flags": 0,
	}
	p := Payload{
		"id":                    id,
		"application_id":        f.cfg.AppID,
		"type":                  int(typ),
		"data":                  data,
		"channel_id":            c.ChannelID,
		"token":                 newToken(id),
		"version":               1,
		"locale":                c.Locale,
		"app_permissions":       c.AppPermissions,
		"entitlements":          []any{},
		"attachment_size_limit": 10 << 20,
	}
	if c.GuildID != "" {
		p["guild_id"] = c.GuildID
		p["guild_locale"] = "en-US"
		p["channel"] = map[string]any{"id": c.ChannelID, "type": int(discordgo.ChannelTypeGuildText), "guild_id": c.GuildID, "name": "news"}
		p["member"] = map[string]any{
			"user":                         user,
			"roles":                        []any{},
			"permissions":                  c.Permissions,
			"joined_at":                    "2024-01-01T00:00:00.000000+00:00",
			"nick":                         nil,
			"avatar":                       nil,
			"deaf":                         false,
			"mute":                         false,
			"flags":                        0,
			"pending":                      false,
			"premium_since":                nil,
			"communication_disabled_until": nil,
		}
		p["context"] = int(discordgo.InteractionContextGuild)
		p["authorizing_integration_owners"] = map[string]any{"0": c.GuildID}
	} else {
		p["user"] = user
		p["channel"] = map[string]any{"id": c.ChannelID, "type": int(discordgo.ChannelTypeDM)}
		p["context"] = int(discordgo.InteractionContextBotDM)
		p["authorizing_integration_owners"] = map[string]any{"0": "0"}
	}
	return p
}

func (f *Fake) withDefaults(c Caller) Caller {
	if c.ChannelID == "" {
		c.ChannelID = f.defaultChannel
		if c.GuildID == "" {
			c.ChannelID = f.defaultDM
		}
	}
	if c.UserID == "" {
		c.UserID = f.defaultUser
	}
	if c.Username == "" {
		c.Username = "reader"
	}
	if c.Permissions == "" {
		c.Permissions = strconv.FormatInt(memberPermissions, 10)
	}
	if c.AppPermissions == "" {
		c.AppPermissions = strconv.FormatInt(botPermissions, 10)
	}
	if c.Locale == "" {
		c.Locale = "en-US"
	}
	return c
}

// message is the shape every message shares: no content, no attachments, no
// mentions, sent now.
func message(typ int, channelID string, author map[string]any) map[string]any {
	return map[string]any{
		"id":               NewSnowflake(),
		"type":             typ,
		"channel_id":       channelID,
		"author":           author,
		"content":          "",
		"embeds":           []any{},
		"attachments":      []any{},
		"components":       []any{},
		"mentions":         []any{},
		"mention_roles":    []any{},
		"mention_everyone": false,
		"pinned":           false,
		"tts":              false,
		"timestamp":        time.Now().UTC().Format(time.RFC3339Nano),
		"edited_timestamp": nil,
		"flags":            0,
	}
}

// userMessage is a message written by the caller, with target's non-zero
// fields on top.
func (f *Fake) userMessage(target *discordgo.Message, c Caller) map[string]any {
	m := message(0, c.ChannelID, map[string]any{
		"id": c.UserID, "username": c.Username, "discriminator": "0", "global_name": c.Username,
		"avatar": nil, "public_flags": 0,
	})
	if target != nil {
		m = overlay(m, jsonValue(target))
	}
	return m
}

// botMessage is a message the bot posted.
func (f *Fake) botMessage(channelID string, typ discordgo.MessageType) map[string]any {
	m := message(int(typ), channelID, f.botUser())
	m["application_id"] = f.cfg.AppID
	m["webhook_id"] = f.cfg.AppID
	return m
}

// overlay copies src's meaningful values onto dst. Marshalled discordgo
// structs carry null, "" and zero timestamps for unset fields; those keep
// dst's realistic defaults.
func overlay(dst map[string]any, src any) map[string]any {
	m, _ := src.(map[string]any)
	for k, v := range m {
		switch v {
		case nil, "", "0001-01-01T00:00:00Z":
			continue
		}
		dst[k] = v
	}
	return dst
}

// jsonValue turns v into plain JSON values (maps, slices, strings,
// float64s), so payloads can be edited uniformly.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic("discordtest: marshal: " + err.Error())
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic("discordtest: unmarshal: " + err.Error())
	}
	return out
}

// interactionState is what Discord remembers about one interaction: its
// token, whether it was acknowledged, and the messages it produced.
type interactionState struct {
	id, token  string
	typ        int
	dataType   int
	channelID  string
	dispatched time.Time
	acked      bool
	// loading is set by a deferral and cleared by the first edit or
	// followup, which replaces the "thinking" message, as on Discord.
	loading   bool
	message   map[string]any // the message a component sits on
	original  map[string]any // the original response, once there is one
	followups []map[string]any
}

type interactionRegistry struct {
	mu      sync.Mutex
	byToken map[string]*interactionState
	byID    map[string]*interactionState
	// uploads are the files attached to messages, by url.
	uploads map[string][]byte
}

func (r *interactionRegistry) init() {
	r.byToken = map[string]*interactionState{}
	r.byID = map[string]*interactionState{}
	r.uploads = map[string][]byte{}
}

// register remembers a dispatched interaction so the bot's replies to it
// are accepted, as Discord only accepts tokens it issued. now is the
// fake's clock.
func (r *interactionRegistry) register(raw []byte, now time.Time) error {
	var p struct {
		ID        string          `json:"id"`
		Token     string          `json:"token"`
		Type      int             `json:"type"`
		ChannelID string          `json:"channel_id"`
		Message   json.RawMessage `json:"message"`
		Data      struct {
			Type int `json:"type"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("discordtest: interaction payload: %w", err)
	}
	if p.ID == "" || p.Token == "" {
		return fmt.Errorf("discordtest: interaction payload needs id and token")
	}
	st := &interactionState{
		id: p.ID, token: p.Token, typ: p.Type, dataType: p.Data.Type,
		channelID: p.ChannelID, dispatched: now,
	}
	if len(p.Message) > 0 {
		_ = json.Unmarshal(p.Message, &st.message)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byToken[p.Token] = st
	r.byID[p.ID] = st
	return nil
}

// Original returns the interaction's original response as the user now
// sees it, after the callback and any edits; false if there is none.
func (f *Fake) Original(token string) (*discordgo.Message, bool) {
	f.ix.mu.Lock()
	st := f.ix.byToken[token]
	var m map[string]any
	if st != nil {
		m = st.original
	}
	b, _ := json.Marshal(m)
	f.ix.mu.Unlock()
	if m == nil {
		return nil, false
	}
	var msg discordgo.Message
	if err := json.Unmarshal(b, &msg); err != nil {
		return nil, false
	}
	return &msg, true
}

// Followups returns the followup messages sent for an interaction, oldest
// first, as edited since.
func (f *Fake) Followups(token string) []*discordgo.Message {
	f.ix.mu.Lock()
	var b []byte
	if st := f.ix.byToken[token]; st != nil {
		b, _ = json.Marshal(st.followups)
	}
	f.ix.mu.Unlock()
	var out []*discordgo.Message
	_ = json.Unmarshal(b, &out)
	return out
}

// Discord's errors for interaction routes.
func unknownInteraction() Response {
	return ErrorResponse(http.StatusNotFound, 10062, "Unknown interaction")
}
func alreadyAcked() Response {
	return ErrorResponse(http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
}
func unknownWebhook() Response { return ErrorResponse(http.StatusNotFound, 10015, "Unknown Webhook") }
func unknownMessage() Response { return ErrorResponse(http.StatusNotFound, 10008, "Unknown Message") }
func invalidWebhookToken() Response {
	return ErrorResponse(http.StatusUnauthorized, 50027, "Invalid Webhook Token")
}

// TokenLife is how long Discord accepts an interaction token.
const TokenLife = 15 * time.Minute

// expired reports whether st's token is past its life on the fake's clock.
func (f *Fake) expired(st *interactionState) bool {
	return f.Now().Sub(st.dispatched) > TokenLife
}

// Interaction callback types.
const (
	cbPong           = 1
	cbMessage        = 4
	cbDeferred       = 5
	cbDeferredUpdate = 6
	cbUpdate         = 7
	cbAutocomplete   = 8
	cbModal          = 9
)

func (f *Fake) serveCallback(req *Request) Response {
	var body struct {
		Type *int           `json:"type"`
		Data map[string]any `json:"data"`
	}
	raw, files, resp, bad := messageBody(req)
	if bad {
		return resp
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Type == nil {
		return invalidForm("body must be a JSON object with an integer type")
	}
	f.ix.mu.Lock()
	defer f.ix.mu.Unlock()
	st := f.ix.byID[req.Params["id"]]
	if st == nil || st.token != req.Params["token"] {
		return unknownInteraction()
	}
	if f.expired(st) {
		return invalidWebhookToken()
	}
	if st.acked {
		return alreadyAcked()
	}
	if f.cfg.AckTimeout > 0 && f.Now().Sub(st.dispatched) > f.cfg.AckTimeout {
		return unknownInteraction()
	}
	component := st.typ == int(discordgo.InteractionMessageComponent) || st.typ == int(discordgo.InteractionModalSubmit)
	switch t := *body.Type; {
	case t == cbMessage || t == cbDeferred:
		if st.typ == int(discordgo.InteractionApplicationCommandAutocomplete) {
			return invalidForm("callback type not valid for autocomplete")
		}
		msgType := discordgo.MessageTypeChatInputCommand
		if st.dataType != int(discordgo.ChatApplicationCommand) && !component {
			msgType = discordgo.MessageTypeContextMenuCommand
		}
		if component {
			msgType = discordgo.MessageTypeReply
		}
		m := f.botMessage(st.channelID, msgType)
		m["interaction_metadata"] = map[string]any{"id": st.id, "type": st.typ}
		if t == cbDeferred {
			if files != nil {
				return invalidForm("a deferred response carries no files")
			}
			flags, _ := body.Data["flags"].(float64)
			m["flags"] = int(flags) | int(discordgo.MessageFlagsLoading)
			st.loading = true
		} else {
			if resp, bad := checkMessage(body.Data, []string{"data"}); bad {
				return resp
			}
			applyMessageFields(m, body.Data)
			if resp, bad := f.attach(m, body.Data, files); bad {
				return resp
			}
			if isEmptyMessage(m) {
				return emptyMessage()
			}
		}
		st.original = m
	case (t == cbDeferredUpdate || t == cbUpdate) && component:
		m := st.message
		if m == nil {
			m = f.botMessage(st.channelID, 0)
		}
		if t == cbUpdate {
			if resp, bad := checkMessage(body.Data, []string{"data"}); bad {
				return resp
			}
			applyMessageFields(m, body.Data)
			if resp, bad := f.attach(m, body.Data, files); bad {
				return resp
			}
			m["edited_timestamp"] = time.Now().UTC().Format(time.RFC3339Nano)
		}
		st.original = m
	case t == cbAutocomplete && st.typ == int(discordgo.InteractionApplicationCommandAutocomplete):
	case t == cbModal && st.typ != int(discordgo.InteractionModalSubmit) && st.typ != int(discordgo.InteractionApplicationCommandAutocomplete):
	default:
		return invalidForm(fmt.Sprintf("callback type %d not valid for interaction type %d", t, st.typ))
	}
	st.acked = true
	return noContent()
}

// applyMessageFields copies what a bot may set on a message from a request
// body onto m, the way Discord applies a create or edit.
func applyMessageFields(m map[string]any, data map[string]any) {
	for _, k := range []string{"content", "embeds", "components", "flags", "tts", "poll"} {
		v, ok := data[k]
		if !ok {
			continue
		}
		if v == nil {
			switch k {
			case "content":
				v = ""
			case "flags":
				v = 0.0
			case "tts":
				v = false
			default:
				v = []any{}
			}
		}
		m[k] = v
	}
}

// onWebhook runs fn, under the registry lock, on the interaction named by
// the webhook URL the bot used ({app}/{token}). POST and PATCH bodies must
// be JSON objects; fn gets them decoded.
func (f *Fake) onWebhook(req *Request, fn func(st *interactionState, body map[string]any, files map[int]upload) Response) Response {
	var (
		body  map[string]any
		files map[int]upload
	)
	if req.Method == http.MethodPost || req.Method == http.MethodPatch {
		raw, fs, resp, bad := messageBody(req)
		if bad {
			return resp
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return invalidForm("body must be a JSON object")
		}
		files = fs
	}
	f.ix.mu.Lock()
	defer f.ix.mu.Unlock()
	if req.Params["app"] != f.cfg.AppID {
		return unknownWebhook()
	}
	st := f.ix.byToken[req.Params["token"]]
	if st == nil {
		return unknownWebhook()
	}
	if f.expired(st) {
		return invalidWebhookToken()
	}
	if body != nil {
		if resp, bad := checkMessage(body, nil); bad {
			return resp
		}
	}
	return fn(st, body, files)
}

func (f *Fake) serveGetOriginal(req *Request) Response {
	return f.onWebhook(req, func(st *interactionState, _ map[string]any, _ map[int]upload) Response {
		if st.original == nil {
			return unknownMessage()
		}
		return jsonResponse(http.StatusOK, st.original)
	})
}

func (f *Fake) serveEditOriginal(req *Request) Response {
	return f.onWebhook(req, func(st *interactionState, body map[string]any, files map[int]upload) Response {
		if st.original == nil {
			return unknownMessage()
		}
		edited := cloneMessage(st.original)
		editMessage(edited, body)
		if resp, bad := f.attach(edited, body, files); bad {
			return resp
		}
		if isEmptyMessage(edited) {
			return emptyMessage()
		}
		st.original, st.loading = edited, false
		return jsonResponse(http.StatusOK, st.original)
	})
}

func (f *Fake) serveDeleteOriginal(req *Request) Response {
	return f.onWebhook(req, func(st *interactionState, _ map[string]any, _ map[int]upload) Response {
		if st.original == nil {
			return unknownMessage()
		}
		st.original = nil
		return noContent()
	})
}

func (f *Fake) serveFollowup(req *Request) Response {
	return f.onWebhook(req, func(st *interactionState, body map[string]any, files map[int]upload) Response {
		if !st.acked {
			return unknownWebhook()
		}
		// The first followup after a deferral replaces the "thinking"
		// message (the original), keeping the deferral's flags.
		if st.loading && st.original != nil {
			edited := cloneMessage(st.original)
			flags := edited["flags"]
			editMessage(edited, body)
			if resp, bad := f.attach(edited, body, files); bad {
				return resp
			}
			edited["flags"] = flags
			clearLoading(edited)
			if isEmptyMessage(edited) {
				return emptyMessage()
			}
			st.original, st.loading = edited, false
			if req.Query.Get("wait") != "true" {
				return noContent()
			}
			return jsonResponse(http.StatusOK, st.original)
		}
		m := f.botMessage(st.channelID, discordgo.MessageTypeReply)
		applyMessageFields(m, body)
		if resp, bad := f.attach(m, body, files); bad {
			return resp
		}
		if isEmptyMessage(m) {
			return emptyMessage()
		}
		st.followups = append(st.followups, m)
		// Without ?wait=true Discord answers 204 and discordgo returns nil.
		if req.Query.Get("wait") != "true" {
			return noContent()
		}
		return jsonResponse(http.StatusOK, m)
	})
}

func (f *Fake) serveEditFollowup(req *Request) Response {
	return f.onWebhook(req, func(st *interactionState, body map[string]any, files map[int]upload) Response {
		for i, m := range st.followups {
			if m["id"] == req.Params["message"] {
				edited := cloneMessage(m)
				editMessage(edited, body)
				if resp, bad := f.attach(edited, body, files); bad {
					return resp
				}
				if isEmptyMessage(edited) {
					return emptyMessage()
				}
				st.followups[i] = edited
				return jsonResponse(http.StatusOK, edited)
			}
		}
		return unknownMessage()
	})
}

// editMessage applies a PATCH: the new fields, an edited timestamp, and
// the "thinking" flag gone once there is something to show.
func editMessage(m, body map[string]any) {
	applyMessageFields(m, body)
	m["edited_timestamp"] = time.Now().UTC().Format(time.RFC3339Nano)
	clearLoading(m)
}

// clearLoading drops the "thinking" flag.
func clearLoading(m map[string]any) {
	if flags, ok := m["flags"].(float64); ok {
		m["flags"] = float64(int(flags) &^ int(discordgo.MessageFlagsLoading))
	} else if flags, ok := m["flags"].(int); ok {
		m["flags"] = flags &^ int(discordgo.MessageFlagsLoading)
	}
}

// cloneMessage copies m deeply enough that a refused edit changes nothing.
func cloneMessage(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		panic("discordtest: marshal message: " + err.Error())
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic("discordtest: unmarshal message: " + err.Error())
	}
	return out
}
