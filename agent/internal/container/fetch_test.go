package container

import (
	"bufio"
	"context"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// get against real HTTP servers on 127.0.0.1 (net/http's, in the test binary only).
func TestGet(t *testing.T) {
	payload := strings.Repeat("root filesystem bytes ", 5000)
	mux := http.NewServeMux()
	mux.HandleFunc("/plain.tar", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "110000")
		io.WriteString(w, payload)
	})
	mux.HandleFunc("/chunked.tar", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < len(payload); i += 7000 {
			end := i + 7000
			if end > len(payload) {
				end = len(payload)
			}
			io.WriteString(w, payload[i:end])
			w.(http.Flusher).Flush() // no Content-Length: chunked
		}
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "plain.tar?x=1", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/short.tar", func(w http.ResponseWriter, r *http.Request) {
		// Promises more than it sends, then the connection drops.
		conn, buf, _ := w.(http.Hijacker).Hijack()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this")
		buf.Flush()
		conn.Close()
	})
	plain := httptest.NewServer(mux)
	defer plain.Close()
	secure := httptest.NewTLSServer(mux)
	defer secure.Close()
	rootCAs = x509.NewCertPool()
	rootCAs.AddCert(secure.Certificate())
	defer func() { rootCAs = nil }()

	read := func(url string) (string, error) {
		body, err := get(context.Background(), url)
		if err != nil {
			return "", err
		}
		defer body.Close()
		b, err := io.ReadAll(body)
		return string(b), err
	}
	for _, url := range []string{
		plain.URL + "/plain.tar", plain.URL + "/chunked.tar", plain.URL + "/moved",
		secure.URL + "/plain.tar", secure.URL + "/chunked.tar",
	} {
		if got, err := read(url); err != nil || got != payload {
			t.Errorf("%s: %d bytes, %v; want the %d-byte payload", url, len(got), err, len(payload))
		}
	}
	for url, want := range map[string]string{
		plain.URL + "/missing":   "HTTP 404 Not Found",
		plain.URL + "/loop":      "more than 5 redirects",
		plain.URL + "/short.tar": "unexpected EOF",
	} {
		if _, err := read(url); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", url, err, want)
		}
	}
	// Without the test CA, the TLS server is not trusted.
	rootCAs = x509.NewCertPool()
	if _, err := read(secure.URL + "/plain.tar"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusted server: %v", err)
	}
}

// Cancelling the context ends a download that stalls.
func TestGetCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		bufio.NewReader(conn).ReadString('\n')
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstart")
		time.Sleep(5 * time.Second)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	body, err := get(ctx, "http://"+ln.Addr().String()+"/stall.tar")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	start := time.Now()
	if _, err := io.ReadAll(body); err == nil {
		t.Fatal("a stalled download ended without an error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancel took %s", d)
	}
}
