// Package static embeds the console's CSS, JavaScript and icons, and the
// pinned vendor files (htmx, Pico CSS) that `make assets` copies from npm, so
// the binary serves everything itself: no CDN.
package static

import "embed"

// Files holds app.css, app.js, favicon.svg and vendor/.
//
//go:embed app.css app.js favicon.svg vendor/htmx.min.js vendor/pico.min.css
var Files embed.FS
