package gate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits on what an unauthenticated client may send: enough for AUTH or
// HELLO with a token, nothing that costs the node memory.
const (
	maxArgs   = 16
	maxArgLen = MaxTokenBytes + 1024
)

var errTooBig = errors.New("request too large before authentication")

// readRequest reads one command, as a RESP array of bulk strings or as an
// inline command (one line of space-separated words, as telnet sends).
func readRequest(r *bufio.Reader) ([]string, error) {
	b, err := r.Peek(1)
	if err != nil {
		return nil, err
	}
	if b[0] != '*' {
		line, err := readLine(r)
		if err != nil {
			return nil, err
		}
		return strings.Fields(line), nil
	}
	head, err := readLine(r)
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(head[1:])
	if err != nil || n < 0 {
		return nil, fmt.Errorf("bad array header %q", head)
	}
	if n > maxArgs {
		return nil, errTooBig
	}
	args := make([]string, 0, n)
	for i := 0; i < n; i++ {
		h, err := readLine(r)
		if err != nil {
			return nil, err
		}
		if len(h) < 2 || h[0] != '$' {
			return nil, fmt.Errorf("want a bulk string, got %.10q", h)
		}
		l, err := strconv.Atoi(h[1:])
		if err != nil || l < 0 {
			return nil, fmt.Errorf("bad bulk length %q", h)
		}
		if l > maxArgLen {
			return nil, errTooBig
		}
		buf := make([]byte, l+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		if buf[l] != '\r' || buf[l+1] != '\n' {
			return nil, errors.New("bulk string not terminated by CRLF")
		}
		args = append(args, string(buf[:l]))
	}
	return args, nil
}

// readLine reads up to CRLF (or LF) within maxArgLen bytes.
func readLine(r *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		frag, err := r.ReadSlice('\n')
		if sb.Len()+len(frag) > maxArgLen {
			return "", errTooBig
		}
		sb.Write(frag)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(sb.String(), "\r\n"), nil
	}
}

// encodeCommand renders args as a RESP array of bulk strings.
func encodeCommand(args []string) []byte {
	var sb strings.Builder
	fmt.Fprintf(&sb, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&sb, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(sb.String())
}
