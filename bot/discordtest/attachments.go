package discordtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

// Discord's limits on files sent with a message: 10 attachments, and for a
// bot 10 MiB in all (the free upload limit; larger is 413, code 40005).
const (
	maxAttachments     = 10
	maxAttachmentBytes = 10 << 20
)

// upload is one file of a multipart/form-data request.
type upload struct {
	filename, contentType string
	data                  []byte
}

// isMultipart reports whether the request carries files.
func (r Request) isMultipart() bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// JSON is the request's JSON: the body, or the payload_json part of a
// multipart/form-data body (a message with files), as Discord reads it.
func (r Request) JSON() ([]byte, error) {
	if !r.isMultipart() {
		return r.Body, nil
	}
	payload, _, err := r.parts(false)
	return payload, err
}

// Files are the files of a multipart/form-data request, by field name
// (files[n]) and filename; nil for a JSON request.
func (r Request) Files() (map[string]string, error) {
	if !r.isMultipart() {
		return nil, nil
	}
	_, ups, err := r.parts(false)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for n, u := range ups {
		out[fmt.Sprintf("files[%d]", n)] = u.filename
	}
	return out, nil
}

var errTooLarge = errors.New("request entity too large")

// parts reads a multipart/form-data body as Discord does: payload_json is
// the message, files[n] are the files (any other field name is refused).
// limit enforces Discord's size limit.
func (r Request) parts(limit bool) (payload []byte, files map[int]upload, err error) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, nil, errors.New("multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	files = map[int]upload{}
	total := 0
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("multipart body: %w", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, fmt.Errorf("multipart part %q: %w", p.FormName(), err)
		}
		name := p.FormName()
		switch {
		case name == "payload_json":
			payload = data
		case strings.HasPrefix(name, "files[") && strings.HasSuffix(name, "]"):
			n, err := strconv.Atoi(name[len("files[") : len(name)-1])
			if err != nil || n < 0 || n >= maxAttachments {
				return nil, nil, fmt.Errorf("file field %q: want files[0] to files[%d]", name, maxAttachments-1)
			}
			if p.FileName() == "" {
				return nil, nil, fmt.Errorf("file field %q has no filename", name)
			}
			total += len(data)
			if limit && total > maxAttachmentBytes {
				return nil, nil, errTooLarge
			}
			files[n] = upload{filename: p.FileName(), contentType: p.Header.Get("Content-Type"), data: data}
		default:
			return nil, nil, fmt.Errorf("unknown form field %q", name)
		}
	}
	if payload == nil {
		payload = []byte("{}")
	}
	return payload, files, nil
}

// messageBody decodes a message body, JSON or multipart, refusing what
// Discord refuses. files are the uploads (nil for JSON).
func messageBody(req *Request) (body []byte, files map[int]upload, resp Response, bad bool) {
	if !req.isMultipart() {
		return req.Body, nil, Response{}, false
	}
	payload, files, err := req.parts(true)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, nil, ErrorResponse(http.StatusRequestEntityTooLarge, 40005, "Request entity too large"), true
	case err != nil:
		return nil, nil, invalidForm(err.Error()), true
	}
	return payload, files, Response{}, false
}

// attach sets m's attachments as Discord does for a create or edit with
// files: with an "attachments" list in the body, exactly those (an id
// that is a file's index is that new file; any other must be one of m's
// attachments already); without one, m's attachments plus every file.
// The files' bytes are kept, for Attachment. applyMessageFields leaves
// attachments to it.
func (f *Fake) attach(m map[string]any, body map[string]any, files map[int]upload) (Response, bool) {
	list, listed := body["attachments"].([]any)
	if files == nil && !listed {
		return Response{}, false
	}
	existing, _ := m["attachments"].([]any)
	var out []any
	added := func(n int, u upload) {
		id := NewSnowflake()
		url := fmt.Sprintf("%s/attachments/%s/%s", f.URL(), id, u.filename)
		f.ix.uploads[url] = u.data
		out = append(out, map[string]any{
			"id": id, "filename": u.filename, "size": len(u.data), "content_type": u.contentType, "url": url, "proxy_url": url,
		})
	}
	if !listed {
		out = append(out, existing...)
		for n := range maxAttachments {
			if u, ok := files[n]; ok {
				added(n, u)
			}
		}
	}
	for i, v := range list {
		a, _ := v.(map[string]any)
		id := fmt.Sprint(a["id"])
		if n, err := strconv.Atoi(id); err == nil && n < maxAttachments {
			if u, ok := files[n]; ok {
				added(n, u)
				continue
			}
		}
		kept := false
		for _, e := range existing {
			if em, _ := e.(map[string]any); fmt.Sprint(em["id"]) == id {
				out, kept = append(out, e), true
			}
		}
		if !kept {
			e := formErrors{}
			e.add([]string{"attachments", strconv.Itoa(i), "id"}, "ATTACHMENT_NOT_FOUND", "Unknown attachment: no file with this id was uploaded")
			return e.response()
		}
	}
	if len(out) > maxAttachments {
		e := formErrors{}
		e.add([]string{"attachments"}, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", maxAttachments))
		return e.response()
	}
	if out == nil {
		out = []any{}
	}
	m["attachments"] = out
	return Response{}, false
}

// Attachment returns the bytes of a file the bot attached, by its
// attachment's url.
func (f *Fake) Attachment(url string) ([]byte, bool) {
	f.ix.mu.Lock()
	defer f.ix.mu.Unlock()
	b, ok := f.ix.uploads[url]
	return b, ok
}
