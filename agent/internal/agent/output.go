package agent

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/protocol"
	"zos-build/agent/internal/resp"
)

// retry runs cmds as one pipeline until the first reply is not an error, for
// up to resultDeadline (redis may be restarting).
func (s *Server) retry(what string, cmds [][]string) {
	deadline := time.Now().Add(resultDeadline)
	for delay := 100 * time.Millisecond; ; delay *= 2 {
		vs, err := s.Pool.Pipeline(5*time.Second, cmds)
		if err == nil && vs[0].Kind != '-' {
			return
		}
		if err == nil {
			err = resp.Error(vs[0].Str)
		}
		if time.Now().After(deadline) {
			clog.Errorf("%s lost: %v", what, err)
			return
		}
		if delay > 2*time.Second {
			delay = 2 * time.Second
		}
		time.Sleep(delay)
	}
}

// pushFlag marks a job as accepted: RPUSH result:<id>:flag "" (0-core's
// Flag). Clients wait for it after pushing a command and take its absence
// to mean the agent does not know the job.
func (s *Server) pushFlag(id string) {
	s.retry("job "+id+": flag", [][]string{{"RPUSH", s.key(protocol.FlagKey(id)), ""}})
}

// pushResult stores a result and lets the flag expire with it (0-core's
// UnFlag then Respond), retrying while redis is restarting.
func (s *Server) pushResult(r *protocol.Result) {
	key := s.key(protocol.ResultPrefix + r.ID)
	ttl := strconv.Itoa(ResultTTL)
	s.retry("job "+r.ID+": result", [][]string{
		{"RPUSH", key, string(r.Marshal())},
		{"EXPIRE", key, ttl},
		{"EXPIRE", s.key(protocol.FlagKey(r.ID)), ttl},
	})
}

// streamRecord is one entry of the list stream:<id>, as 0-core writes it.
type streamRecord struct {
	Core    int           `json:"core"`
	Command string        `json:"command"`
	Message streamMessage `json:"message"`
}

type streamMessage struct {
	Message string `json:"message"`
	Epoch   int64  `json:"epoch"` // nanoseconds
	Meta    uint32 `json:"meta"`  // level << 16 | flags
}

func record(core int, id string, level int, flags uint32, line string) string {
	b, _ := json.Marshal(streamRecord{Core: core, Command: id,
		Message: streamMessage{Message: line, Epoch: time.Now().UnixNano(), Meta: uint32(level)<<16 | flags}})
	return string(b)
}

// streamBuf batches the lines of one streaming job so a chatty process is
// not slowed down by one redis round trip per line.
type streamBuf struct {
	mu       sync.Mutex
	pending  []string
	dropped  int
	flushing bool
	idle     *sync.Cond
}

const (
	maxPendingLines = 20000
	maxBatch        = 500
)

func (s *Server) streamFor(id string) *streamBuf {
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	if s.streams == nil {
		s.streams = map[string]*streamBuf{}
	}
	b := s.streams[id]
	if b == nil {
		b = &streamBuf{}
		b.idle = sync.NewCond(&b.mu)
		s.streams[id] = b
	}
	return b
}

func (s *Server) pushLine(id string, level int, line string) {
	b := s.streamFor(id)
	b.mu.Lock()
	if len(b.pending) >= maxPendingLines {
		b.dropped++
	} else {
		b.pending = append(b.pending, record(s.coreOf(id), id, level, 0, line))
	}
	start := !b.flushing
	b.flushing = true
	b.mu.Unlock()
	if start {
		go s.flush(id, b)
	}
}

// appendCmds is RPUSH of records onto stream:<id>, then LTRIM to the last
// StreamMaxLen and EXPIRE, as 0-core does after every push.
func (s *Server) appendCmds(id string, records []string) [][]string {
	key := s.key(protocol.StreamPrefix + id)
	push := append([]string{"RPUSH", key}, records...)
	return [][]string{push, {"LTRIM", key, strconv.Itoa(-StreamMaxLen), "-1"}, {"EXPIRE", key, strconv.Itoa(StreamTTL)}}
}

// flush writes pending entries in pipelined batches until none are left.
func (s *Server) flush(id string, b *streamBuf) {
	for {
		b.mu.Lock()
		n := len(b.pending)
		if n > maxBatch {
			n = maxBatch
		}
		batch := append([]string(nil), b.pending[:n]...)
		b.pending = b.pending[n:]
		if n == 0 {
			b.flushing = false
			b.idle.Broadcast()
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		vs, err := s.Pool.Pipeline(10*time.Second, s.appendCmds(id, batch))
		if err == nil && vs[0].Kind == '-' {
			err = resp.Error(vs[0].Str)
		}
		if err != nil {
			clog.Debugf("job %s: %d stream entries lost: %v", id, len(batch), err)
		}
	}
}

// pushEnd waits for pending lines, then writes the end-of-stream message:
// empty text, level stdout with flag 0x2 on success, level stderr with flag
// 0x4 otherwise (0-core's exit message).
func (s *Server) pushEnd(id string, r *protocol.Result) {
	b := s.streamFor(id)
	b.mu.Lock()
	for b.flushing {
		b.idle.Wait()
	}
	dropped := b.dropped
	b.mu.Unlock()
	s.streamsMu.Lock()
	delete(s.streams, id)
	s.streamsMu.Unlock()
	if dropped > 0 {
		clog.Warnf("job %s: %d output lines were not streamed (redis too slow)", id, dropped)
	}
	end := record(s.coreOf(id), id, protocol.LevelStdout, protocol.FlagEOFSuccess, "")
	if r.State != protocol.StateSuccess {
		end = record(s.coreOf(id), id, protocol.LevelStderr, protocol.FlagEOFError, "")
	}
	vs, err := s.Pool.Pipeline(5*time.Second, s.appendCmds(id, []string{end}))
	if err == nil && vs[0].Kind == '-' {
		err = resp.Error(vs[0].Str)
	}
	if err != nil {
		clog.Debugf("job %s: stream end marker lost: %v", id, err)
	}
}

// coreOf is the "core" of a stream message: the container a job runs in,
// 0 for the node.
func (s *Server) coreOf(id string) int {
	if j := s.Jobs.Get(id); j != nil {
		return j.Cmd.Container
	}
	return 0
}
