// Package servers runs the example servers: the signals that stop them, the
// limits of their http.Server, and their graceful shutdown.
package servers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Server limits. The examples' requests and answers are small, so the
// timeouts can be short.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	shutdownTimeout   = 10 * time.Second
)

// Main runs run with a logger on stderr and a context that SIGINT and
// SIGTERM cancel, and exits with status 1, logging the error, if it fails.
func Main(what string, run func(ctx context.Context, logger *slog.Logger, ready func(addr string)) error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, logger, nil)
	stop()
	if err != nil {
		logger.Error(what+" failed", "err", err)
		os.Exit(1)
	}
}

// Serve serves h on ln until ctx is done, then shuts down gracefully. Once
// it accepts connections it logs "listening" with addr (http:// and ln's
// address) and attrs, and calls ready, when not nil, with ln's address.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, ready func(addr string), attrs ...any) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("listening", append([]any{"addr", "http://" + ln.Addr().String()}, attrs...)...)
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-served:
		return err // Serve returns only on failure until Shutdown is called
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
