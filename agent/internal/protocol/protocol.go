// Package protocol defines the wire format between clients and core0 (see
// docs/protocol.md): commands are JSON objects pushed to the Redis list
// core:default, results are JSON objects pushed to result:<id>.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Redis keys.
const (
	QueueKey     = "core:default"
	ResultPrefix = "result:"
	StreamPrefix = "stream:"
)

// Limits.
const (
	MaxPayload = 1 << 20 // a command larger than this is rejected
	MaxIDLen   = 128
	MaxMaxTime = 7 * 24 * 3600 // one week, in seconds
	MaxQueue   = 128           // length of a queue name
)

// States of a result.
const (
	StateSuccess     = "SUCCESS"
	StateError       = "ERROR"
	StateTimeout     = "TIMEOUT"
	StateKilled      = "KILLED"
	StateUnknownCmd  = "UNKNOWN_CMD"
	StateDuplicateID = "DUPLICATE_ID"
)

// Agent-level result codes (process commands use the exit code instead).
const (
	CodeOK         = 0
	CodeBadRequest = 400
	CodeUnknownCmd = 404
	CodeDuplicate  = 409
	CodeTooLarge   = 413
	CodeInternal   = 500
	CodeBusy       = 503
	CodeTimeout    = 504
)

// LevelResult is the log level 0-core uses for a normal result message.
const LevelResult = 20

// Command is a request.
type Command struct {
	ID        string          `json:"id"`
	Command   string          `json:"command"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Queue     string          `json:"queue,omitempty"`
	MaxTime   int64           `json:"max_time,omitempty"`
	Stream    bool            `json:"stream,omitempty"`
	Tags      json.RawMessage `json:"tags,omitempty"`
}

// Result is a response.
type Result struct {
	ID        string          `json:"id"`
	Command   string          `json:"command"`
	Data      string          `json:"data"`
	Streams   [2]string       `json:"streams"`
	Level     int             `json:"level"`
	State     string          `json:"state"`
	Code      int             `json:"code"`
	StartTime int64           `json:"starttime"`
	Time      int64           `json:"time"`
	Tags      json.RawMessage `json:"tags"`
}

// NewResult returns a result for cmd with data set to the JSON encoding of
// payload. If payload cannot be encoded the result becomes an ERROR.
func NewResult(cmd *Command, state string, code int, payload interface{}) *Result {
	r := &Result{ID: cmd.ID, Command: cmd.Command, Level: LevelResult, State: state, Code: code, Tags: cmd.Tags}
	r.SetData(payload)
	return r
}

// SetData stores the JSON encoding of payload in Data.
func (r *Result) SetData(payload interface{}) {
	b, err := json.Marshal(payload)
	if err != nil {
		b, _ = json.Marshal("cannot encode result: " + err.Error())
		r.State, r.Code = StateError, CodeInternal
	}
	r.Data = string(b)
}

// Marshal encodes the result; Tags null when absent.
func (r *Result) Marshal() []byte {
	if len(r.Tags) == 0 {
		r.Tags = json.RawMessage("null")
	}
	b, err := json.Marshal(r)
	if err != nil {
		// Tags are validated JSON, so this only happens on a bug; still
		// answer something the client can parse.
		r.Tags = json.RawMessage("null")
		b, _ = json.Marshal(r)
	}
	return b
}

// ParseError is a rejected command. ID is set when it could be read, so the
// agent can answer result:<id>; otherwise it can only log.
type ParseError struct {
	ID, Command string
	Tags        json.RawMessage
	Code        int
	Msg         string
}

func (e *ParseError) Error() string { return e.Msg }

// Parse decodes and validates one raw command.
func Parse(raw []byte) (*Command, *ParseError) {
	if len(raw) > MaxPayload {
		pe := &ParseError{Code: CodeTooLarge, Msg: fmt.Sprintf("command is %d bytes, the limit is %d", len(raw), MaxPayload)}
		// Try to find whom to answer; larger payloads are not even looked at
		// beyond this cheap decode.
		if len(raw) <= 16*MaxPayload {
			var head struct {
				ID      interface{} `json:"id"`
				Command interface{} `json:"command"`
			}
			if json.Unmarshal(raw, &head) == nil {
				pe.ID, _ = head.ID.(string)
				pe.Command, _ = head.Command.(string)
				if !validID(pe.ID) {
					pe.ID = ""
				}
			}
		}
		return nil, pe
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&fields); err != nil || fields == nil {
		msg := "command is not a JSON object"
		if err != nil {
			msg += ": " + err.Error()
		}
		return nil, &ParseError{Code: CodeBadRequest, Msg: msg}
	}
	if dec.More() {
		return nil, &ParseError{Code: CodeBadRequest, Msg: "trailing data after the JSON object"}
	}
	pe := &ParseError{Code: CodeBadRequest}
	cmd := &Command{}
	// id first: every later error can then be answered.
	if v, ok := fields["id"]; !ok {
		pe.Msg = "missing field id"
		return nil, pe
	} else if err := json.Unmarshal(v, &cmd.ID); err != nil {
		pe.Msg = "field id must be a string"
		return nil, pe
	}
	if !validID(cmd.ID) {
		pe.Msg = fmt.Sprintf("field id must be 1-%d printable characters without spaces", MaxIDLen)
		return nil, pe
	}
	pe.ID = cmd.ID
	if v, ok := fields["tags"]; ok {
		cmd.Tags = v
		pe.Tags = v
	}
	fail := func(format string, a ...interface{}) (*Command, *ParseError) {
		pe.Msg = fmt.Sprintf(format, a...)
		return nil, pe
	}
	if v, ok := fields["command"]; !ok {
		return fail("missing field command")
	} else if err := json.Unmarshal(v, &cmd.Command); err != nil || cmd.Command == "" {
		return fail("field command must be a non-empty string")
	}
	pe.Command = cmd.Command
	if v, ok := fields["arguments"]; ok && !isNull(v) {
		if len(bytes.TrimSpace(v)) == 0 || bytes.TrimSpace(v)[0] != '{' {
			return fail("field arguments must be an object")
		}
		cmd.Arguments = v
	}
	if v, ok := fields["queue"]; ok && !isNull(v) {
		if err := json.Unmarshal(v, &cmd.Queue); err != nil {
			return fail("field queue must be a string")
		}
		if len(cmd.Queue) > MaxQueue {
			return fail("field queue is longer than %d bytes", MaxQueue)
		}
	}
	if v, ok := fields["max_time"]; ok && !isNull(v) {
		var f float64
		if err := json.Unmarshal(v, &f); err != nil || f < 0 || f > MaxMaxTime || f != float64(int64(f)) {
			return fail("field max_time must be a whole number of seconds between 0 and %d", MaxMaxTime)
		}
		cmd.MaxTime = int64(f)
	}
	if v, ok := fields["stream"]; ok && !isNull(v) {
		if err := json.Unmarshal(v, &cmd.Stream); err != nil {
			return fail("field stream must be a boolean")
		}
	}
	return cmd, nil
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func validID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for _, c := range id {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// DecodeArgs decodes cmd.Arguments into dst, rejecting unknown fields so a
// typo ("arg" for "args") is an error instead of a silently ignored option.
func DecodeArgs(cmd *Command, dst interface{}) error {
	if len(cmd.Arguments) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(cmd.Arguments))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("argument %s must be %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return fmt.Errorf("bad arguments: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "a boolean"
	}
	return "a number"
}
