package app

import (
	"log/slog"
	"time"
)

// orDefault sets an options field left at zero (or set to a negative value,
// which makes no sense for a count or a duration) to its default.
func orDefault[T ~int | ~int64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// clockAndLog fills in the clock and the logger that options left out: the
// wall clock, and a logger that discards.
func clockAndLog(now *func() time.Time, log **slog.Logger) {
	if *now == nil {
		*now = time.Now
	}
	if *log == nil {
		*log = slog.New(slog.DiscardHandler)
	}
}
