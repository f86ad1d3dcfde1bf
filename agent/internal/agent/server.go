// Package agent connects the job manager to Redis: it pops commands from
// core:default, hands them to the job manager, and pushes results and
// streamed output back.
package agent

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/container"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/protocol"
	"zos-build/agent/internal/reaper"
	"zos-build/agent/internal/resp"
)

// Tunables (seconds where the protocol says so).
const (
	ResultTTL      = 300  // EXPIRE of result:<id> and result:<id>:flag once the job ended
	StreamTTL      = 60   // EXPIRE of stream:<id>, refreshed by every batch (as 0-core)
	StreamMaxLen   = 1000 // stream:<id> is trimmed to its last entries (as 0-core)
	blpopTimeout   = 5    // server-side BLPOP timeout
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
	// ContainerDir holds container images and writable layers.
	ContainerDir string
	// KeyPrefix is put before every key the server reads or writes: "" on
	// the node's own redis, "node:<id>:" on a shared management redis
	// (outbound mode, docs/protocol.md).
	KeyPrefix string
	// DialHint, when set, turns a failure to reach redis into the advice
	// the console shows (e.g. "not admitted yet: ..."); MaxBackoff caps the
	// pause between attempts (default 5 s).
	DialHint   func(error) string
	MaxBackoff time.Duration

	started  time.Time
	stop     chan struct{}
	stopOnce sync.Once
	loopDone chan struct{}
	logLimit limiter
	haltOnce sync.Once
	connMu   sync.Mutex
	conn     *resp.Conn // the blocking connection, closed by Stop

	ctrs     *container.Manager
	ctrsOnce sync.Once

	streamsMu sync.Mutex
	streams   map[string]*streamBuf
}

// New creates a server and its job manager with all handlers registered.
func New(version string, pool *resp.Pool, r *reaper.Reaper, cfg jobs.Config) *Server {
	s := &Server{Version: version, Pool: pool, Reaper: r, started: time.Now(),
		stop: make(chan struct{}), loopDone: make(chan struct{})}
	s.Jobs = jobs.NewManager(cfg, r, jobs.Sinks{Accept: s.pushFlag, Result: s.pushResult, Line: s.pushLine, End: s.pushEnd})
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
	maxBackoff := s.MaxBackoff
	if maxBackoff == 0 {
		maxBackoff = 5 * time.Second
	}
	var dialLog quietLog
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
				msg := fmt.Sprintf("cannot reach redis: %v", err)
				if s.DialHint != nil {
					msg = s.DialHint(err)
				}
				dialLog.warn("command loop: %s (retrying every %s at most)", msg, maxBackoff)
				s.sleep(backoff)
				if backoff *= 2; backoff > maxBackoff {
					backoff = maxBackoff
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
			if backoff > 100*time.Millisecond || s.KeyPrefix != "" {
				clog.Infof("command loop: connected to redis %s, queue %s", c.RemoteAddr(), s.key(protocol.QueueKey))
			}
			dialLog = quietLog{}
			backoff = 100 * time.Millisecond
		}
		v, err := conn.Do(time.Duration(blpopTimeout+5)*time.Second, "BLPOP", s.key(protocol.QueueKey),
			strconv.Itoa(blpopTimeout))
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
			msg := err.Error()
			if resp.IsServerError(err) && s.DialHint != nil {
				msg = s.DialHint(err) // e.g. NOPERM: the ACL user lacks BLPOP
			}
			dialLog.warn("command loop: %s", msg)
			s.sleep(backoff)
			if backoff *= 2; backoff > maxBackoff {
				backoff = maxBackoff
			}
			continue
		}
		backoff = 100 * time.Millisecond
		if v.Nil || len(v.Array) != 2 {
			continue
		}
		s.Handle([]byte(v.Array[1].Str))
	}
}

// key is a protocol key under the server's KeyPrefix.
func (s *Server) key(k string) string { return s.KeyPrefix + k }

// quietLog prints a repeated failure once, then again only when its text
// changes or a minute passed: a node waiting for its management redis must
// not flood a 115200-baud console.
type quietLog struct {
	last string
	at   time.Time
}

func (q *quietLog) warn(format string, a ...interface{}) {
	msg := fmt.Sprintf(format, a...)
	if msg == q.last && time.Since(q.at) < time.Minute {
		return
	}
	q.last, q.at = msg, time.Now()
	clog.Warnf("%s", msg)
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
