/* prism/tfevents.h — TensorBoard event files written natively: no TensorFlow, no protobuf
 * library.
 *
 * A file is a sequence of TFRecords:
 *     uint64 length (little endian) | uint32 masked_crc32c(length bytes) |
 *     data[length]                  | uint32 masked_crc32c(data)
 * with masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8. Each record's data is an Event
 * protobuf, encoded by hand:
 *     Event   { double wall_time = 1; int64 step = 2; string file_version = 3;
 *               Summary summary = 5; }
 *     Summary { repeated Value value = 1; }
 *     Value   { string tag = 1; float simple_value = 2; }
 * The first record carries file_version "brain.Event:2". The file is named
 * events.out.tfevents.<unix seconds>.<hostname> in the run directory. Tags are grouped as
 * charts/, losses/, values/, time/, system/ (CleanRL's names where they exist, e.g.
 * charts/episodic_return, losses/td_loss, values/q_mean, time/sps ... the trainer chooses).
 *
 * On resume the trainer opens a new file in the same directory and keeps writing the same tags
 * and steps: TensorBoard merges the files of a directory into the same curves. Every file
 * starts with a SessionLog START event (Event field 6) at the step where that session's
 * writing begins: TensorBoard ignores a run's first START and, on each later one, drops the
 * points it already holds at or after that step, so the rows an interrupted run wrote after
 * its last checkpoint are replaced by the resumed run's, not drawn twice.
 *
 *     prism_tfevents ev;
 *     st = prism_tfevents_open(&ev, run_dir);
 *     st = prism_tfevents_scalar(&ev, "charts/episodic_return", step, 187.0f);
 *     prism_tfevents_close(&ev);
 *
 * The encoder writes into a fixed buffer in the struct: no allocation per event.
 */
#ifndef PRISM_TFEVENTS_H
#define PRISM_TFEVENTS_H

#include "prism/core.h"
#include "prism/file.h"

#include <stdint.h>
#include <stdio.h>

enum { PRISM_TFEVENTS_BUF = 65536 }; /* one encoded Event, framing included */

typedef struct prism_tfevents {
    FILE *f;
    char path[PRISM_PATH_MAX];
    long long records; /* records written, the file_version one included */
    unsigned char buf[PRISM_TFEVENTS_BUF];
} prism_tfevents;

/* Create events.out.tfevents.<unix time>.<host> in `dir` (which must exist) and write the
 * file_version event. If that name exists (two opens within a second), ".001", ".002" ... are
 * appended. PRISM_ERR_IO naming the path on failure. */
prism_status prism_tfevents_open(prism_tfevents *w, const char *dir);
/* The same with an explicit wall time and host (tests; reproducible names). */
prism_status prism_tfevents_open_at(prism_tfevents *w, const char *dir, double wall_time,
                                    const char *host);
/* One Event holding one scalar, wall time now. PRISM_ERR_INVALID for an empty or overlong tag,
 * PRISM_ERR_IO on a write failure. */
prism_status prism_tfevents_scalar(prism_tfevents *w, const char *tag, long long step, float value);
/* One Event holding n scalars that share a step and wall time (one record per iteration).
 * NaN values are written too (TensorBoard shows them); an event that would not fit the buffer
 * is split into several. */
prism_status prism_tfevents_scalars(prism_tfevents *w, long long step, double wall_time, int n,
                                    const char *const *tags, const float *values);
/* A SessionLog {status: START} event at `step`: the first rows of a session (fresh run:
 * step 0; resumed run: one past the checkpoint's step). */
prism_status prism_tfevents_session_start(prism_tfevents *w, long long step, double wall_time);
/* fflush (the trainer calls it once per iteration). */
prism_status prism_tfevents_flush(prism_tfevents *w);
void prism_tfevents_close(prism_tfevents *w);

/* A default TensorBoard tag for a metrics.csv column name, so the trainer can log every column
 * under one convention (writes "<group>/<name>" into out[cap]):
 *   CleanRL's names where they exist: return_mean -> charts/episodic_return,
 *     length_mean -> charts/episodic_length, td_loss -> losses/td_loss, epsilon -> charts/epsilon;
 *   sys_rss* / sys_mem* -> system/<rest>; other sys_* (steps/s, seconds per component)
 *     -> time/<rest>;
 *   *loss* -> losses/; q_*, td_target*, grad*, param*, update_ratio*, priority*, per_*,
 *     is_weight*, *entropy*, c51_* -> values/; anything else -> charts/. */
void prism_tfevents_default_tag(const char *column, char *out, size_t cap);

/* The masked CRC32C of TFRecord framing. */
uint32_t prism_tfrecord_masked_crc(const void *data, size_t len);

/* Read an event file back: checks every length and data CRC and decodes every scalar, calling
 * `visit(ctx, wall_time, step, tag, value)` for each (a non-zero return stops the walk). A
 * SessionLog START event is visited as tag PRISM_TFEVENTS_START_TAG with value NaN.
 * The file_version record is checked to be "brain.Event:2". PRISM_ERR_CORRUPT names the file,
 * the record number and byte offset of the first problem (bad CRC, truncation, bad protobuf). */
#define PRISM_TFEVENTS_START_TAG "session_log/START"
typedef int (*prism_tfevents_visit)(void *ctx, double wall_time, long long step, const char *tag,
                                    float value);
prism_status prism_tfevents_read(const char *path, prism_tfevents_visit visit, void *ctx,
                                 long long *nrecords);

#endif
