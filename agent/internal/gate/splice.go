package gate

import (
	"bufio"
	"io"
	"net"
)

// splice pipes bytes both ways between an authenticated client and the
// local redis until either side ends. Bytes the client already sent behind
// its AUTH (clients pipeline their handshake) are still in br and go first.
// When the client stops sending, redis gets EOF and may still answer (QUIT);
// when redis ends, the client is closed.
func splice(client net.Conn, br *bufio.Reader, up net.Conn) {
	done := make(chan struct{})
	go func() {
		io.Copy(up, br)
		if cw, ok := up.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else {
			up.Close()
		}
		close(done)
	}()
	io.Copy(client, up)
	client.Close()
	up.Close()
	<-done
}
