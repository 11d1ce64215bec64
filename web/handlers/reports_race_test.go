//go:build race

package handlers

// exportTestRows is smaller under the race detector, which makes every row
// of the streamed export many times slower; the plain run covers 100,000.
const exportTestRows = 5_000
