/* A durable, bounded on-disk queue of records (the watcher's violation events waiting to be sent).
 *
 * Design: one file per record, written to <dir>/tmp/, fsync'd, renamed into <dir>/q/<id> (16 hex
 * digits, increasing) and the directory fsync'd: spool_append() returns only once the record is
 * on disk. A record file is framed: "WXS1", payload length (u32 LE), CRC32C of the payload
 * (u32 LE), payload. A SIGKILL or power cut mid-write leaves at most a file in tmp/ (removed on
 * open) or, on a file system that reorders, a q/ file whose length or CRC does not match
 * (dropped and counted as corrupt on open or read). Nothing spool_append() returned for is lost.
 *
 * Acknowledging unlinks. Delivery is at least once: a crash between the server's reply and the
 * unlink sends a record again (the server de-duplicates by event uuid).
 *
 * Bounds: max_records and max_bytes (payload + 12-byte frame). Appending beyond evicts the oldest
 * records; a full disk (ENOSPC, EDQUOT) evicts the oldest and retries, and fails with -ENOSPC
 * only when the spool is empty and the record still does not fit. Evictions are counted in
 * <dir>/state (persisted) and reported to the server. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct spool;

struct spool_limits {
	uint64_t max_records; /* 0: 10000 */
	uint64_t max_bytes;   /* 0: 16 MiB */
};

#define SPOOL_RECORD_MAX (1024u * 1024) /* one record's payload */
#define SPOOL_FRAME_LEN 12u

struct spool_record {
	uint64_t id;
	char *data; /* NUL-terminated for convenience */
	size_t len;
};

struct spool_stats {
	uint64_t depth;    /* records waiting */
	uint64_t bytes;    /* their size on disk (framed) */
	uint64_t evicted;  /* records dropped to honour the bounds or a full disk, ever */
	uint64_t corrupt;  /* torn or damaged records dropped, ever */
	uint64_t appended; /* records appended by this process */
	uint64_t acked;    /* records acknowledged by this process */
};

/* Open (creating dir 0700, q/ and tmp/); removes leftovers of interrupted writes, verifies
 * every record's frame (drops torn ones) and applies the bounds. */
int spool_open(const char *dir, const struct spool_limits *lim, struct spool **ret);
void spool_free(struct spool *s);

/* Append one record; durable when it returns 0. ret_id may be NULL. -EMSGSIZE when larger than
 * SPOOL_RECORD_MAX or the byte bound; -ENOSPC when the disk is full and nothing is left to evict.
 */
int spool_append(struct spool *s, const void *data, size_t len, uint64_t *ret_id);
/* The oldest records, at most max_n of them and (but at least one) max_bytes of payload.
 * *ret_n may be 0. Free with spool_records_free(). */
int spool_peek(struct spool *s, size_t max_n, size_t max_bytes, struct spool_record **ret,
	       size_t *ret_n);
void spool_records_free(struct spool_record *v, size_t n);
/* Remove delivered records (ids already gone, e.g. evicted meanwhile, are ignored). */
int spool_ack(struct spool *s, const uint64_t *ids, size_t n);
void spool_get_stats(const struct spool *s, struct spool_stats *ret);

/* Read-only look at a spool another process owns (`wxguard status`): depth, bytes and the
 * persisted counters, without verifying, cleaning or evicting anything. */
int spool_stat_dir(const char *dir, struct spool_stats *ret);

/* CRC32C (Castagnoli), as in the frame. */
uint32_t spool_crc32c(uint32_t crc, const void *data, size_t len);
