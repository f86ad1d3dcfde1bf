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
	// FlagSuffix: result:<id>:flag is a list pushed when a job is accepted
	// and set to expire when it ends (upstream 0-core's job flag).
	FlagSuffix = ":flag"
)

// FlagKey is the key that marks job id as known to the agent.
func FlagKey(id string) string { return ResultPrefix + id + FlagSuffix }

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
	CodeOK          = 0
	CodeBadRequest  = 400
	CodeForbidden   = 403 // program not executable
	CodeNotFound    = 404 // program, file or job not found
	CodeUnknownCmd  = 404
	CodeDuplicate   = 409
	CodeTooLarge    = 413
	CodeInternal    = 500
	CodeBusy        = 503
	CodeUnavailable = 503 // a tool the command needs is not in this image
	CodeTimeout     = 504
)

// Message levels (0-core's): a builtin command's result is JSON (20); a
// process command's result carries no result message (level 0); streamed
// output lines are stdout (1) or stderr (2).
const (
	LevelNone   = 0
	LevelStdout = 1
	LevelStderr = 2
	LevelResult = 20
)

// Stream message flags (low 16 bits of meta).
const (
	FlagEOFSuccess = 0x2
	FlagEOFError   = 0x4
)

// ExitCodeBase is added to a process's exit code in a result's code, as in
// 0-core (codes below it are agent codes).
const ExitCodeBase = 1000

// MaxRecurring bounds recurring_period and max_restart.
const (
	MaxRecurringPeriod = 7 * 24 * 3600
	MaxRestarts        = 1000
)

// Command is a request.
type Command struct {
	ID        string          `json:"id"`
	Command   string          `json:"command"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Queue     string          `json:"queue,omitempty"`
	MaxTime   int64           `json:"max_time,omitempty"`
	Stream    bool            `json:"stream,omitempty"`
	Tags      json.RawMessage `json:"tags,omitempty"`
	// MaxRestart: run again (after 1 s) while the job fails, at most this
	// many runs in all.
	MaxRestart int `json:"max_restart,omitempty"`
	// RecurringPeriod: run again this many seconds after each run ends,
	// until killed.
	RecurringPeriod int `json:"recurring_period,omitempty"`
	// LogLevels: which output levels (1 stdout, 2 stderr) are captured in
	// streams and streamed; empty means all.
	LogLevels []int `json:"log_levels,omitempty"`
	// Container is set by corex.dispatch: the job runs in that container
	// (0: on the node).
	Container int `json:"-"`
}

// WantsLevel tells whether output of level lvl is captured.
func (c *Command) WantsLevel(lvl int) bool {
	if len(c.LogLevels) == 0 {
		return true
	}
	for _, l := range c.LogLevels {
		if l == lvl {
			return true
		}
	}
	return false
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
	// Without HTML escaping: messages keep their < > & readable.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(payload)
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
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
	wholeField := func(name string, max int64, dst *int) string {
		v, ok := fields[name]
		if !ok || isNull(v) {
			return ""
		}
		var f float64
		if err := json.Unmarshal(v, &f); err != nil || f < 0 || f > float64(max) || f != float64(int64(f)) {
			return fmt.Sprintf("field %s must be a whole number between 0 and %d", name, max)
		}
		*dst = int(f)
		return ""
	}
	if msg := wholeField("max_restart", MaxRestarts, &cmd.MaxRestart); msg != "" {
		return fail("%s", msg)
	}
	if msg := wholeField("recurring_period", MaxRecurringPeriod, &cmd.RecurringPeriod); msg != "" {
		return fail("%s", msg)
	}
	var statsInterval int
	if msg := wholeField("stats_interval", MaxRecurringPeriod, &statsInterval); msg != "" {
		return fail("%s", msg)
	}
	if statsInterval != 0 {
		return fail("field stats_interval is not supported: core0 does not collect per-job statistics (use 0 or omit it)")
	}
	if v, ok := fields["log_levels"]; ok && !isNull(v) {
		if err := json.Unmarshal(v, &cmd.LogLevels); err != nil {
			return fail("field log_levels must be an array of integers")
		}
		for _, l := range cmd.LogLevels {
			if l < 0 || l > 255 {
				return fail("field log_levels: level %d out of range 0-255", l)
			}
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
