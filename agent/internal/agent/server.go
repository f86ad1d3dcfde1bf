// Package agent connects the job manager to Redis: it pops commands from
// core:default, hands them to the job manager, and pushes results and
// streamed output back.
package agent

import (
	"strconv"
	"sync"
	"time"

	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/protocol"
	"zos-build/agent/internal/reaper"
	"zos-build/agent/internal/resp"
)

// Tunables (seconds where the protocol says so).
const (
	ResultTTL      = 300 // EXPIRE of result:<id>
	StreamTTL      = 300 // EXPIRE of stream:<id>, refreshed by every line
	StreamMaxLen   = 10000
	blpopTimeout   = 5 // server-side BLPOP timeout
	resultDeadline = 60 * time.Second
)

// Server is the command loop.
type Server struct {
	Version string
	Pool    *resp.Pool
	Jobs    *jobs.Manager
	Reaper  *reaper.Reaper
	// Shutdown is called (once) after a core.reboot/core.poweroff result
	// has been pushed.
	Shutdown func(poweroff bool)
	// State reports extra fields for core.state (redis pid, restarts...).
	State func() map[string]interface{}

	started  time.Time
	stop     chan struct{}
	stopOnce sync.Once
	loopDone chan struct{}
	logLimit limiter
	haltOnce sync.Once
	connMu   sync.Mutex
	conn     *resp.Conn // the blocking connection, closed by Stop

	streamsMu sync.Mutex
	streams   map[string]*streamBuf
}

// New creates a server and its job manager with all handlers registered.
func New(version string, pool *resp.Pool, r *reaper.Reaper, cfg jobs.Config) *Server {
	s := &Server{Version: version, Pool: pool, Reaper: r, started: time.Now(),
		stop: make(chan struct{}), loopDone: make(chan struct{})}
	s.Jobs = jobs.NewManager(cfg, r, jobs.Sinks{Result: s.pushResult, Line: s.pushLine, End: s.pushEnd})
	s.register()
	return s
}

// limiter allows n console lines per second for noisy events (a flood of
// malformed commands must not turn into a flood on a 115200-baud console).
type limiter struct {
	mu         sync.Mutex
	window     time.Time
	n, dropped int
}

func (l *limiter) allow() (ok bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.window) >= time.Second {
		l.window, l.n = now, 0
		dropped, l.dropped = l.dropped, 0
	}
	if l.n < 5 {
		l.n++
		return true, dropped
	}
	l.dropped++
	return false, 0
}

func (s *Server) logBad(format string, a ...interface{}) {
	ok, dropped := s.logLimit.allow()
	if dropped > 0 {
		clog.Warnf("%d similar messages suppressed", dropped)
	}
	if ok {
		clog.Warnf(format, a...)
	}
}

// Handle processes one raw command (exported for tests).
func (s *Server) Handle(raw []byte) {
	cmd, perr := protocol.Parse(raw)
	if perr != nil {
		if perr.ID == "" {
			preview := raw
			if len(preview) > 80 {
				preview = preview[:80]
			}
			s.logBad("dropping command without a usable id (%s): %q", perr.Msg, preview)
			return
		}
		s.logBad("rejecting command %s: %s", perr.ID, perr.Msg)
		s.Jobs.Reject(perr)
		return
	}
	clog.Debugf("job %s: %s", cmd.ID, cmd.Command)
	s.Jobs.Submit(cmd)
}

// Serve pops commands until Stop. It survives redis restarts: on any
// connection error it reconnects with backoff.
func (s *Server) Serve() {
	defer func() {
		select {
		case <-s.loopDone:
		default:
			close(s.loopDone)
		}
	}()
	var conn *resp.Conn
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-s.stop:
			if conn != nil {
				conn.Close()
			}
			return
		default:
		}
		if conn == nil {
			c, err := resp.Dial(s.Pool.Options())
			if err != nil {
				clog.Warnf("command loop: cannot reach redis: %v (retrying in %s)", err, backoff)
				s.sleep(backoff)
				if backoff *= 2; backoff > 5*time.Second {
					backoff = 5 * time.Second
				}
				continue
			}
			conn = c
			s.connMu.Lock()
			s.conn = c
			s.connMu.Unlock()
			select {
			case <-s.stop:
				c.Close()
				return
			default:
			}
			if backoff > 100*time.Millisecond {
				clog.Infof("command loop: connected to redis")
			}
			backoff = 100 * time.Millisecond
		}
		v, err := conn.Do(time.Duration(blpopTimeout+5)*time.Second, "BLPOP", protocol.QueueKey, strconv.Itoa(blpopTimeout))
		if err != nil {
			if !resp.IsServerError(err) || conn.Broken() {
				conn.Close()
				conn = nil
				s.Pool.CloseIdle()
			}
			select {
			case <-s.stop:
				return
			default:
			}
			clog.Warnf("command loop: %v", err)
			s.sleep(backoff)
			continue
		}
		if v.Nil || len(v.Array) != 2 {
			continue
		}
		s.Handle([]byte(v.Array[1].Str))
	}
}

func (s *Server) sleep(d time.Duration) {
	select {
	case <-s.stop:
	case <-time.After(d):
	}
}

// Stop ends Serve (after the current BLPOP returns) and waits for it.
func (s *Server) Stop(timeout time.Duration) {
	s.stopOnce.Do(func() { close(s.stop) })
	s.connMu.Lock()
	if s.conn != nil {
		s.conn.Close() // interrupts a pending BLPOP
	}
	s.connMu.Unlock()
	select {
	case <-s.loopDone:
	case <-time.After(timeout):
	}
}

// pushResult stores a result, retrying while redis is restarting.
func (s *Server) pushResult(r *protocol.Result) {
	key := protocol.ResultPrefix + r.ID
	body := string(r.Marshal())
	deadline := time.Now().Add(resultDeadline)
	for delay := 100 * time.Millisecond; ; delay *= 2 {
		vs, err := s.Pool.Pipeline(5*time.Second, [][]string{
			{"RPUSH", key, body},
			{"EXPIRE", key, strconv.Itoa(ResultTTL)},
		})
		if err == nil && vs[0].Kind != '-' {
			return
		}
		if err == nil {
			err = resp.Error(vs[0].Str)
		}
		if time.Now().After(deadline) {
			clog.Errorf("job %s: result lost: %v", r.ID, err)
			return
		}
		if delay > 2*time.Second {
			delay = 2 * time.Second
		}
		time.Sleep(delay)
	}
}

// streamBuf batches the lines of one streaming job so a chatty process is
// not slowed down by one redis round trip per line.
type streamBuf struct {
	mu       sync.Mutex
	pending  [][]string
	dropped  int
	flushing bool
	idle     *sync.Cond
}

const maxPendingLines = 20000

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

func xaddArgs(id string, fields ...string) []string {
	return append([]string{"XADD", protocol.StreamPrefix + id, "MAXLEN", "~", strconv.Itoa(StreamMaxLen), "*"}, fields...)
}

func (s *Server) pushLine(id, stream, line string) {
	b := s.streamFor(id)
	b.mu.Lock()
	if len(b.pending) >= maxPendingLines {
		b.dropped++
	} else {
		b.pending = append(b.pending, xaddArgs(id, "stream", stream, "line", line))
	}
	start := !b.flushing
	b.flushing = true
	b.mu.Unlock()
	if start {
		go s.flush(id, b)
	}
}

// flush writes pending entries in pipelined batches until none are left.
func (s *Server) flush(id string, b *streamBuf) {
	for {
		b.mu.Lock()
		batch := b.pending
		if len(batch) > 500 {
			batch = batch[:500]
		}
		b.pending = b.pending[len(batch):]
		if len(batch) == 0 {
			b.flushing = false
			b.idle.Broadcast()
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		// A fresh slice: appending to batch would overwrite the next
		// pending entry, which shares batch's backing array.
		cmds := make([][]string, 0, len(batch)+1)
		cmds = append(cmds, batch...)
		cmds = append(cmds, []string{"EXPIRE", protocol.StreamPrefix + id, strconv.Itoa(StreamTTL)})
		vs, err := s.Pool.Pipeline(10*time.Second, cmds)
		if err == nil && vs[0].Kind == '-' {
			err = resp.Error(vs[0].Str)
		}
		if err != nil {
			clog.Debugf("job %s: %d stream entries lost: %v", id, len(batch), err)
		}
	}
}

// pushEnd waits for pending lines, then writes the end marker.
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
	fields := []string{"eof", "1", "state", r.State, "code", strconv.Itoa(r.Code)}
	if dropped > 0 {
		fields = append(fields, "dropped", strconv.Itoa(dropped))
	}
	vs, err := s.Pool.Pipeline(5*time.Second, [][]string{xaddArgs(id, fields...), {"EXPIRE", protocol.StreamPrefix + id, strconv.Itoa(StreamTTL)}})
	if err == nil && vs[0].Kind == '-' {
		err = resp.Error(vs[0].Str)
	}
	if err != nil {
		clog.Debugf("job %s: stream end marker lost: %v", id, err)
	}
}
