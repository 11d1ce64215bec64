package rcbu

import (
	"cmp"
	"slices"
)

// sortStableByKey sorts list in place by keys computed once per item,
// keeping equal keys in their original order: the same order as
// slices.SortStableFunc with a comparison of the keys, but the sort moves
// small (key, position) pairs instead of the items, and each item is
// moved once. The account-wide lists hold tens of thousands of
// structs of a few hundred bytes each.
func sortStableByKey[T, K any](list []T, key func(*T) K, compare func(a, b K) int) {
	type entry struct {
		k   K
		pos int
	}
	entries := make([]entry, len(list))
	sorted := true
	for i := range list {
		entries[i] = entry{key(&list[i]), i}
		if sorted && i > 0 && compare(entries[i-1].k, entries[i].k) > 0 {
			sorted = false
		}
	}
	if sorted {
		return
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := compare(a.k, b.k); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	// entries[j].pos is the item that belongs at j: follow each cycle of
	// that permutation once, marking finished places with -1.
	for start := range entries {
		if entries[start].pos < 0 || entries[start].pos == start {
			continue
		}
		saved := list[start]
		j := start
		for {
			src := entries[j].pos
			entries[j].pos = -1
			if src == start {
				list[j] = saved
				break
			}
			list[j] = list[src]
			j = src
		}
	}
}
