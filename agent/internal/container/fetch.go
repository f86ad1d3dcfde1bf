package container

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// maxRedirects bounds the redirects get follows.
const maxRedirects = 5

// rootCAs verifies https servers; nil means the system's (/etc/ssl/certs). Tests set their own.
var rootCAs *x509.CertPool

// get fetches rawURL with a plain HTTP/1.1 GET: https through crypto/tls with the system's CAs,
// up to maxRedirects redirects, a body delimited by Content-Length, chunked encoding or the end
// of the connection. It returns the body of a 200 response; anything else is an error. A root
// archive is all the node downloads: net/http would add 0.9 MB to core0, which every boot unpacks.
// Cancelling ctx closes the connection.
func get(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	for redirects := 0; ; redirects++ {
		body, location, err := getOnce(ctx, u)
		if err != nil || location == "" {
			return body, err
		}
		if redirects == maxRedirects {
			return nil, fmt.Errorf("more than %d redirects", maxRedirects)
		}
		next, err := u.Parse(location)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
			return nil, fmt.Errorf("redirect to %q: not an http(s) URL", location)
		}
		u = next
	}
}

// getOnce sends one request: the body of a 200 response, or the target of a redirect.
func getOnce(ctx context.Context, u *url.URL) (io.ReadCloser, string, error) {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, "", err
	}
	c := &conn2ctx{Conn: conn, done: make(chan struct{})}
	go func() {
		select {
		case <-ctx.Done():
			conn.Close()
		case <-c.done:
		}
	}()
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), RootCAs: rootCAs})
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, "", err
		}
		c.Conn = tc
	}
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUser-Agent: core0\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, "", err
	}
	br := bufio.NewReader(c)
	tp := textproto.NewReader(br)
	status, err := tp.ReadLine()
	if err != nil {
		c.Close()
		return nil, "", fmt.Errorf("reading the response: %w", err)
	}
	header, err := tp.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		c.Close()
		return nil, "", fmt.Errorf("reading the response headers: %w", err)
	}
	// HTTP/1.1 200 OK
	parts := strings.SplitN(status, " ", 3)
	code := 0
	if len(parts) >= 2 && strings.HasPrefix(parts[0], "HTTP/1.") {
		code, _ = strconv.Atoi(parts[1])
	}
	switch {
	case code == 0:
		c.Close()
		return nil, "", fmt.Errorf("not an HTTP response: %q", status)
	case code == 301 || code == 302 || code == 303 || code == 307 || code == 308:
		c.Close()
		if loc := header.Get("Location"); loc != "" {
			return nil, loc, nil
		}
		return nil, "", fmt.Errorf("HTTP %s without a Location", strings.Join(parts[1:], " "))
	case code != 200:
		c.Close()
		return nil, "", fmt.Errorf("HTTP %s", strings.Join(parts[1:], " "))
	}
	var body io.Reader = br
	if strings.EqualFold(header.Get("Transfer-Encoding"), "chunked") {
		body = &chunked{r: br}
	} else if cl := header.Get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			c.Close()
			return nil, "", fmt.Errorf("bad Content-Length %q", cl)
		}
		body = &exactly{r: io.LimitReader(br, n), left: n}
	}
	return &readCloser{Reader: body, Closer: c}, "", nil
}

// conn2ctx is the connection; closing it also ends the goroutine that watches the context.
type conn2ctx struct {
	net.Conn
	done chan struct{}
}

func (c *conn2ctx) Close() error {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	return c.Conn.Close()
}

type readCloser struct {
	io.Reader
	io.Closer
}

// exactly is a body of a known length: ending early is an error, not a short file.
type exactly struct {
	r    io.Reader
	left int64
}

func (e *exactly) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// chunked decodes HTTP/1.1's chunked transfer coding (RFC 9112, section 7.1).
type chunked struct {
	r    *bufio.Reader
	left int64 // bytes left in the current chunk
	end  bool
}

func (c *chunked) Read(p []byte) (int, error) {
	if c.end {
		return 0, io.EOF
	}
	if c.left == 0 {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return 0, unexpected(err)
		}
		size := strings.TrimSpace(strings.SplitN(line, ";", 2)[0])
		n, err := strconv.ParseInt(size, 16, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad chunk size %q", size)
		}
		if n == 0 {
			// Trailer fields, then the empty line.
			for {
				l, err := c.r.ReadString('\n')
				if err != nil {
					return 0, unexpected(err)
				}
				if strings.TrimSpace(l) == "" {
					break
				}
			}
			c.end = true
			return 0, io.EOF
		}
		c.left = n
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left == 0 && err == nil {
		var crlf [2]byte
		if _, err := io.ReadFull(c.r, crlf[:]); err != nil || crlf != [2]byte{'\r', '\n'} {
			return n, errors.New("chunk not followed by CRLF")
		}
	}
	return n, unexpected(err)
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
