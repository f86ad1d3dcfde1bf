// Package resp is a minimal RESP2 client: enough of the Redis protocol for
// the agent to talk to its own redis-server (AUTH, PING, BLPOP, RPUSH,
// EXPIRE, XADD, ...). It only depends on the standard library because the
// agent is built without access to a module proxy.
package resp

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxBulk caps the size of one bulk string the client will read. A reply
// larger than this closes the connection instead of exhausting memory.
const MaxBulk = 64 << 20

// maxArray caps the number of elements of one array reply.
const maxArray = 1 << 20

// Error is an error reply from the server ("-ERR ...", "-WRONGPASS ...").
// It is not a connection failure: the connection stays usable.
type Error string

func (e Error) Error() string { return string(e) }

// Prefix returns the error code, e.g. "WRONGPASS" or "NOAUTH".
func (e Error) Prefix() string {
	s := string(e)
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

// IsServerError reports whether err is an error reply (as opposed to an I/O
// or protocol failure, after which the connection must be dropped).
func IsServerError(err error) bool {
	var e Error
	return errors.As(err, &e)
}

// ErrNil is returned by the helpers when the server answered a nil bulk or
// nil array (e.g. BLPOP timed out).
var ErrNil = errors.New("resp: nil reply")

// Value is one decoded reply. Kind is one of '+', '-', ':', '$', '*'.
type Value struct {
	Kind  byte
	Str   string // simple string, error text, bulk string
	Int   int64
	Array []Value
	Nil   bool // nil bulk string or nil array
}

// Conn is one connection. It is not safe for concurrent use.
type Conn struct {
	nc  net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	err error // sticky I/O error: the connection is dead
}

// Options for Dial.
type Options struct {
	// Network is "tcp" or "unix"; Addr is host:port or a socket path.
	Network, Addr string
	Password      string
	DialTimeout   time.Duration
	// Username, when set, authenticates as that ACL user (AUTH user password).
	Username string
	// TLS, when set, wraps the connection in TLS with this configuration.
	TLS *tls.Config
}

// Dial connects and authenticates.
func Dial(o Options) (*Conn, error) {
	if o.DialTimeout == 0 {
		o.DialTimeout = 5 * time.Second
	}
	var nc net.Conn
	var err error
	if o.TLS != nil {
		nc, err = tls.DialWithDialer(&net.Dialer{Timeout: o.DialTimeout}, o.Network, o.Addr, o.TLS)
	} else {
		nc, err = net.DialTimeout(o.Network, o.Addr, o.DialTimeout)
	}
	if err != nil {
		return nil, err
	}
	c := &Conn{nc: nc, br: bufio.NewReaderSize(nc, 32<<10), bw: bufio.NewWriterSize(nc, 32<<10)}
	auth := []string{"AUTH", o.Password}
	if o.Username != "" {
		auth = []string{"AUTH", o.Username, o.Password}
	}
	if o.Password != "" {
		if _, err := c.Do(o.DialTimeout, auth...); err != nil {
			c.Close()
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	return c, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Broken reports whether an I/O or protocol error made the connection unusable.
func (c *Conn) Broken() bool { return c.err != nil }

// Do sends one command and reads its reply. timeout bounds the whole round
// trip (0 = no deadline); blocking commands must pass a timeout larger than
// their server-side timeout. An error reply is returned as Error.
func (c *Conn) Do(timeout time.Duration, args ...string) (Value, error) {
	vs, err := c.Pipeline(timeout, [][]string{args})
	if err != nil {
		return Value{}, err
	}
	v := vs[0]
	if v.Kind == '-' {
		return v, Error(v.Str)
	}
	return v, nil
}

// Pipeline sends several commands at once and reads all replies. Error
// replies are returned as values with Kind '-', not as err.
func (c *Conn) Pipeline(timeout time.Duration, cmds [][]string) ([]Value, error) {
	if c.err != nil {
		return nil, c.err
	}
	if timeout > 0 {
		c.nc.SetDeadline(time.Now().Add(timeout))
	} else {
		c.nc.SetDeadline(time.Time{})
	}
	for _, args := range cmds {
		writeCommand(c.bw, args)
	}
	if err := c.bw.Flush(); err != nil {
		c.err = err
		return nil, err
	}
	out := make([]Value, 0, len(cmds))
	for range cmds {
		v, err := ReadValue(c.br)
		if err != nil {
			c.err = err
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func writeCommand(w *bufio.Writer, args []string) {
	w.WriteByte('*')
	w.WriteString(strconv.Itoa(len(args)))
	w.WriteString("\r\n")
	for _, a := range args {
		w.WriteByte('$')
		w.WriteString(strconv.Itoa(len(a)))
		w.WriteString("\r\n")
		w.WriteString(a)
		w.WriteString("\r\n")
	}
}

// EncodeCommand returns the wire form of a command (used by tests).
func EncodeCommand(args ...string) []byte {
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	writeCommand(w, args)
	w.Flush()
	return []byte(sb.String())
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("resp: malformed line %q", line)
	}
	return line[:len(line)-2], nil
}

// ReadValue decodes one RESP2 value.
func ReadValue(r *bufio.Reader) (Value, error) {
	line, err := readLine(r)
	if err != nil {
		return Value{}, err
	}
	if line == "" {
		return Value{}, errors.New("resp: empty line")
	}
	kind, rest := line[0], line[1:]
	switch kind {
	case '+', '-':
		return Value{Kind: kind, Str: rest}, nil
	case ':':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return Value{}, fmt.Errorf("resp: bad integer %q", rest)
		}
		return Value{Kind: kind, Int: n}, nil
	case '$':
		n, err := strconv.Atoi(rest)
		if err != nil || n < -1 {
			return Value{}, fmt.Errorf("resp: bad bulk length %q", rest)
		}
		if n == -1 {
			return Value{Kind: kind, Nil: true}, nil
		}
		if n > MaxBulk {
			return Value{}, fmt.Errorf("resp: bulk of %d bytes exceeds limit", n)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Value{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return Value{}, errors.New("resp: bulk not terminated by CRLF")
		}
		return Value{Kind: kind, Str: string(buf[:n])}, nil
	case '*':
		n, err := strconv.Atoi(rest)
		if err != nil || n < -1 || n > maxArray {
			return Value{}, fmt.Errorf("resp: bad array length %q", rest)
		}
		if n == -1 {
			return Value{Kind: kind, Nil: true}, nil
		}
		arr := make([]Value, 0, n)
		for i := 0; i < n; i++ {
			v, err := ReadValue(r)
			if err != nil {
				return Value{}, err
			}
			arr = append(arr, v)
		}
		return Value{Kind: kind, Array: arr}, nil
	}
	return Value{}, fmt.Errorf("resp: unknown type byte %q", kind)
}

// Pool hands out authenticated connections for short, non-blocking commands.
type Pool struct {
	opts Options
	mu   sync.Mutex
	idle []*Conn
	max  int
}

// NewPool creates a pool that keeps at most maxIdle idle connections.
func NewPool(o Options, maxIdle int) *Pool { return &Pool{opts: o, max: maxIdle} }

// Options returns the dial options (for dedicated blocking connections).
func (p *Pool) Options() Options { return p.opts }

func (p *Pool) get() (*Conn, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	return Dial(p.opts)
}

func (p *Pool) put(c *Conn) {
	if c.Broken() {
		c.Close()
		return
	}
	p.mu.Lock()
	if len(p.idle) < p.max {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// Do runs one command on a pooled connection.
func (p *Pool) Do(timeout time.Duration, args ...string) (Value, error) {
	c, err := p.get()
	if err != nil {
		return Value{}, err
	}
	defer p.put(c)
	return c.Do(timeout, args...)
}

// Pipeline runs several commands on one pooled connection.
func (p *Pool) Pipeline(timeout time.Duration, cmds [][]string) ([]Value, error) {
	c, err := p.get()
	if err != nil {
		return nil, err
	}
	defer p.put(c)
	return c.Pipeline(timeout, cmds)
}

// CloseIdle drops all idle connections (after the server restarted).
func (p *Pool) CloseIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
}

// RemoteAddr is the address of the server this connection reached.
func (c *Conn) RemoteAddr() string { return c.nc.RemoteAddr().String() }
