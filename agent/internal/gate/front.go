package gate

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"zos-build/agent/internal/clog"
)

// Replies an unauthenticated client can get; the texts are Redis' own so
// clients recognise them (a refused token reads exactly like a wrong password).
const (
	replyWrongPass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
	replyNoAuth    = "-NOAUTH Authentication required.\r\n"
	replyHelloAuth = "-NOAUTH HELLO must be called with the client already authenticated, otherwise the " +
		"HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP " +
		"protocol version at the same time\r\n"
	replyUpstream = "-ERR the node's redis is not reachable; try again\r\n"
)

// Per-connection limits before authentication.
const (
	authDeadline = 30 * time.Second
	maxFailures  = 3
	maxConns     = 1000
)

// Front is the management port. With a nil Verifier every client is spliced
// through at once (insecure development nodes only); with a nil TLS config
// it speaks plain RESP.
type Front struct {
	TLS      *tls.Config
	Verifier *Verifier
	// Upstream dials the local redis-server (its unix socket).
	Upstream func() (net.Conn, error)

	mu        sync.Mutex
	listeners []net.Listener
	sem       chan struct{}
}

// Listen binds every address (host:port); it fails if any cannot be bound.
// An IPv4 address binds IPv4 only (0.0.0.0 is not a dual-stack wildcard),
// as redis' own bind did.
func (f *Front) Listen(addrs []string) error {
	for _, a := range addrs {
		network := "tcp"
		if host, _, err := net.SplitHostPort(a); err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
				network = "tcp4"
			} else if ip != nil {
				network = "tcp6"
			}
		}
		l, err := net.Listen(network, a)
		if err != nil {
			f.Close()
			return err
		}
		if f.TLS != nil {
			l = tls.NewListener(l, f.TLS)
		}
		f.mu.Lock()
		f.listeners = append(f.listeners, l)
		f.mu.Unlock()
	}
	return nil
}

// Addrs are the bound addresses (to learn a port chosen by the kernel).
func (f *Front) Addrs() []net.Addr {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []net.Addr
	for _, l := range f.listeners {
		out = append(out, l.Addr())
	}
	return out
}

// Serve accepts clients on every listener until Close.
func (f *Front) Serve() {
	f.mu.Lock()
	ls := append([]net.Listener(nil), f.listeners...)
	f.sem = make(chan struct{}, maxConns)
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Add(1)
		go func(l net.Listener) {
			defer wg.Done()
			f.accept(l)
		}(l)
	}
	wg.Wait()
}

// Close stops accepting; established sessions run on until they end.
func (f *Front) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.listeners {
		l.Close()
	}
}

func (f *Front) accept(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			clog.Warnf("gate: accept: %v", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		select {
		case f.sem <- struct{}{}:
			go func() {
				defer func() { <-f.sem }()
				f.handle(c)
			}()
		default:
			clog.Warnf("gate: %s: refused, %d connections open", c.RemoteAddr(), maxConns)
			c.Close()
		}
	}
}

// handle authenticates one client, then splices it to redis.
func (f *Front) handle(c net.Conn) {
	defer func() {
		if r := recover(); r != nil {
			clog.LogPanic("gate connection", r)
			c.Close()
		}
	}()
	who := c.RemoteAddr().String()
	c.SetDeadline(time.Now().Add(authDeadline))
	if tc, ok := c.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			clog.Debugf("gate: %s: TLS handshake: %v", who, err)
			c.Close()
			return
		}
	}
	br := bufio.NewReaderSize(c, 4096)
	var first []byte // what redis must receive before the client's own bytes
	if f.Verifier != nil {
		var ok bool
		if first, ok = f.authenticate(c, br, who); !ok {
			c.Close()
			return
		}
	}
	c.SetDeadline(time.Time{})
	up, err := f.Upstream()
	if err != nil {
		clog.Errorf("gate: %s: cannot reach redis: %v", who, err)
		io.WriteString(c, replyUpstream)
		c.Close()
		return
	}
	if first != nil {
		if _, err := up.Write(first); err != nil {
			up.Close()
			c.Close()
			return
		}
	} else if f.Verifier != nil {
		if _, err := io.WriteString(c, "+OK\r\n"); err != nil {
			up.Close()
			c.Close()
			return
		}
	}
	splice(c, br, up)
}

// authenticate reads commands until a valid AUTH or HELLO ... AUTH. It
// returns ok, and for HELLO the command redis must still run (HELLO without
// the credentials: redis itself answers with the protocol switch).
func (f *Front) authenticate(c net.Conn, br *bufio.Reader, who string) ([]byte, bool) {
	failures := 0
	for {
		args, err := readRequest(br)
		if err != nil {
			if err != io.EOF {
				clog.Warnf("gate: %s: dropped before AUTH: %v", who, err)
			}
			return nil, false
		}
		if len(args) == 0 {
			continue
		}
		var token string
		var hello []string
		switch strings.ToUpper(args[0]) {
		case "AUTH":
			switch len(args) {
			case 2:
				token = args[1]
			case 3:
				token = args[2]
			default:
				io.WriteString(c, "-ERR wrong number of arguments for 'auth' command\r\n")
				continue
			}
		case "HELLO":
			var ok bool
			if hello, token, ok = splitHello(args); !ok {
				io.WriteString(c, "-ERR Syntax error in HELLO option\r\n")
				continue
			}
			if token == "" {
				io.WriteString(c, replyHelloAuth)
				continue
			}
		case "QUIT":
			io.WriteString(c, "+OK\r\n")
			return nil, false
		default:
			io.WriteString(c, replyNoAuth)
			continue
		}
		claims, err := f.Verifier.Verify(token)
		if err != nil {
			failures++
			clog.Warnf("gate: %s: refused token: %v", who, err)
			io.WriteString(c, replyWrongPass)
			if failures >= maxFailures {
				clog.Warnf("gate: %s: %d refused tokens, closing", who, failures)
				return nil, false
			}
			continue
		}
		clog.Infof("gate: %s: authenticated (sub %q, aud %q)", who, claims.Sub, []string(claims.Aud))
		if hello != nil {
			return encodeCommand(hello), true
		}
		return nil, true
	}
}

// splitHello takes "HELLO [proto [AUTH user pass] [SETNAME name]]" apart
// into the same command without AUTH, and the password (the token).
func splitHello(args []string) (rest []string, token string, ok bool) {
	rest = []string{args[0]}
	if len(args) > 1 {
		rest = append(rest, args[1])
	}
	for i := 2; i < len(args); i++ {
		switch strings.ToUpper(args[i]) {
		case "AUTH":
			if i+2 >= len(args) {
				return nil, "", false
			}
			token = args[i+2]
			i += 2
		case "SETNAME":
			if i+1 >= len(args) {
				return nil, "", false
			}
			rest = append(rest, args[i], args[i+1])
			i++
		default:
			return nil, "", false
		}
	}
	return rest, token, true
}
