/* prism env play ID [--seed S]: a human plays an environment in the terminal, one key per
 * step (turn-based: the world waits for you), with the class's text picture in colour, the
 * score and the step count. Keys are the class's play_keys (one per action), the arrows and
 * Space (mapped by the actions' names), and q to quit.
 *
 * On a terminal, stdin goes into raw mode (no echo, no line buffering) and is restored on
 * every way out: q, end of input, Ctrl-C / SIGTERM / SIGHUP. When stdin is not a terminal
 * (a pipe, a file, a test) the keys are read as plain characters, one per step, blanks
 * ignored, and the picture is drawn without colour or screen clearing.
 * Not here: real-time play (CartPole at 50 Hz); a rollout for tools is `prism env rollout`. */
#include "cli.h"
#include "prism/env.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const char *const command = "env play";

static struct termios saved_termios;
static volatile sig_atomic_t raw_mode_on;

/* Put the terminal back as we found it (async-signal-safe: tcsetattr and write only). */
static void restore_terminal(void) {
    if (!raw_mode_on) return;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
    raw_mode_on = 0;
    static const char show_cursor[] = "\033[0m\033[?25h\n";
    ssize_t ignored = write(STDOUT_FILENO, show_cursor, sizeof show_cursor - 1);
    (void)ignored;
}

static void on_signal(int sig) {
    restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

static bool enter_raw_mode(void) {
    if (tcgetattr(STDIN_FILENO, &saved_termios) != 0) return false;
    struct termios raw = saved_termios;
    /* no line buffering, no echo; keep ISIG so Ctrl-C still raises SIGINT (handled above) */
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    /* TCSANOW, not TCSAFLUSH: keys typed ahead (or piped into a pty) must not be lost */
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0) return false;
    raw_mode_on = 1;
    atexit(restore_terminal);
    return true;
}

/* Keys beyond single characters: the arrows (ESC [ A..D, or ESC O A..D in application mode)
 * and, on a terminal, Space. */
enum { KEY_LEFT = 256, KEY_RIGHT, KEY_UP, KEY_DOWN, KEY_SPACE, NSPECIAL = 5 };

/* Whether another byte arrives within a few milliseconds: an arrow's bytes come together, a
 * lone Escape does not continue. */
static bool more_input(void) {
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    return poll(&p, 1, 50) > 0;
}

/* The next key: a byte from stdin, or KEY_* for an arrow or Space; EOF (or a read error)
 * returns -1. On a pipe, blanks (spaces, tabs, newlines) are skipped so a file of keys may be
 * laid out freely. */
static int next_key(bool tty) {
    for (;;) {
        unsigned char c;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n <= 0) return -1;
        if (tty && c == ' ') return KEY_SPACE;
        if (!tty && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) continue;
        if (c != 27 || !more_input()) return c;
        unsigned char seq[2];
        if (read(STDIN_FILENO, &seq[0], 1) != 1 || (seq[0] != '[' && seq[0] != 'O') ||
            !more_input() || read(STDIN_FILENO, &seq[1], 1) != 1)
            return 27;
        const char *arrows = "DCAB"; /* left, right, up, down */
        const char *at = strchr(arrows, seq[1]);
        return at && seq[1] ? KEY_LEFT + (int)(at - arrows) : 27;
    }
}

/* The action whose name holds one of `words` ('|'-separated), or -1. */
static int action_named(const prism_env_class *c, const char *words) {
    if (!c->action_names) return -1;
    char list[96];
    snprintf(list, sizeof list, "%s", words);
    for (char *save = NULL, *w = strtok_r(list, "|", &save); w; w = strtok_r(NULL, "|", &save))
        for (int a = 0; a < c->num_actions; a++)
            if (strstr(c->action_names[a], w)) return a;
    return -1;
}

/* The actions of the arrows and Space (KEY_LEFT.. order), found by the actions' names: left and
 * right move or push, up is up or the main engine, down is down, Space fires; where a game has
 * no such action, down and Space do nothing (the no-op). -1: the key does nothing. */
static void special_actions(const prism_env_class *c, int out[NSPECIAL]) {
    const char *noop = "no-op|nothing|coast|no torque";
    out[0] = action_named(c, "left|-1");
    out[1] = action_named(c, "right|+1");
    out[2] = action_named(c, "up|main engine");
    out[3] = action_named(c, "down");
    if (out[3] < 0) out[3] = action_named(c, noop);
    out[4] = action_named(c, "fire");
    if (out[4] < 0) out[4] = action_named(c, noop);
}

static void draw(const prism_env *env, char *picture, size_t cap, bool tty, double score,
                 int episode, const char *note, const int special[NSPECIAL]) {
    const prism_env_class *c = env->cls;
    c->render(env->state, picture, cap, tty);
    if (tty) fputs("\033[H\033[2J", stdout); /* home, clear screen */
    fputs(picture, stdout);
    printf("%s%s  episode %d  step %d  score %g%s\n", tty ? "\033[1m" : "", c->id, episode,
           env->elapsed, score, tty ? "\033[0m" : "");
    printf("keys:");
    for (int a = 0; a < c->num_actions; a++)
        printf(" %c=%s", c->play_keys[a], c->action_names ? c->action_names[a] : "?");
    static const char *const special_names[NSPECIAL] = {"left", "right", "up", "down", "Space"};
    const char *sep = "; ";
    for (int k = 0; k < NSPECIAL; k++)
        if (special[k] >= 0) {
            printf("%s%s", sep, special_names[k]);
            sep = ", ";
        }
    if (strcmp(sep, "; ")) printf(" as their actions");
    printf(", q=quit\n");
    if (note) printf("%s\n", note);
    fflush(stdout);
}

int env_play(int argc, char **argv) {
    enum { O_SEED, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_SEED] = {.name = "seed",
                    .metavar = "S",
                    .help = "seed of the first episode (default 0)"},
    };
    const char *usage = "prism env play ID [--seed S]";
    char *pos[1];
    int npos;
    int rc = cli_parse(command, usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        fprintf(stderr, "prism %s: which environment? usage: %s\n(`prism env ls` lists them)\n",
                command, usage);
        return CLI_USAGE;
    }
    uint64_t seed;
    if (!cli_u64(command, &opts[O_SEED], 0, &seed)) return CLI_USAGE;
    prism_env env;
    prism_status st = prism_env_init(&env, pos[0], NULL);
    if (st) return cli_fail(command, st, NULL);
    const prism_env_class *c = env.cls;
    if (!c->play_keys || (int)strlen(c->play_keys) < c->num_actions || !c->render) {
        fprintf(stderr, "prism %s: error: %s has no keyboard controls; try another environment\n",
                command, c->id);
        prism_env_free(&env);
        return CLI_USAGE;
    }
    const bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (tty && !enter_raw_mode()) {
        fprintf(stderr, "prism %s: error: cannot put the terminal into raw mode\n", command);
        prism_env_free(&env);
        return CLI_FAILURE;
    }
    enum { PICTURE_BYTES = 1 << 16 };
    char *picture = malloc(PICTURE_BYTES);
    float *obs = malloc(sizeof *obs * (size_t)prism_env_obs_size(c));
    if (!picture || !obs) {
        free(picture);
        free(obs);
        restore_terminal();
        fprintf(stderr, "prism %s: error: out of memory\n", command);
        prism_env_free(&env);
        return CLI_FAILURE;
    }
    prism_env_seed(&env, seed, PRISM_STREAM_ENV);
    prism_env_reset(&env, obs);
    double score = 0, best = 0;
    int episode = 1, finished = 0, special[NSPECIAL];
    special_actions(c, special);
    char note[160] = "";
    draw(&env, picture, PICTURE_BYTES, tty, score, episode, NULL, special);
    for (;;) {
        int key = next_key(tty);
        if (key < 0 || key == 'q' || key == 'Q' || key == 4 /* Ctrl-D */) break;
        const char *hit = key < 256 ? memchr(c->play_keys, key, (size_t)c->num_actions) : NULL;
        int action = hit ? (int)(hit - c->play_keys) : key >= 256 ? special[key - KEY_LEFT] : -1;
        if (action < 0) {
            snprintf(note, sizeof note, "key '%c' does nothing here",
                     key >= 32 && key < 127 ? key : '?');
            draw(&env, picture, PICTURE_BYTES, tty, score, episode, note, special);
            continue;
        }
        prism_step s = prism_env_step(&env, action, obs);
        score += (double)s.reward;
        if (!s.terminated && !s.truncated) {
            draw(&env, picture, PICTURE_BYTES, tty, score, episode, NULL, special);
            continue;
        }
        snprintf(note, sizeof note, "episode %d over (%s) after %d steps: score %g. %s", episode,
                 s.terminated ? "terminated" : "time limit", env.elapsed, score,
                 tty ? "Press a key for the next episode, q to quit." : "Next episode.");
        draw(&env, picture, PICTURE_BYTES, tty, score, episode, note, special);
        best = finished == 0 || score > best ? score : best;
        finished++;
        if (tty) {
            int k = next_key(tty);
            if (k < 0 || k == 'q' || k == 'Q' || k == 4) break;
        }
        episode++;
        score = 0;
        prism_env_reset(&env, obs);
        draw(&env, picture, PICTURE_BYTES, tty, score, episode, NULL, special);
    }
    restore_terminal();
    if (finished)
        printf("%d episode%s finished, best score %g\n", finished, finished == 1 ? "" : "s", best);
    else
        printf("no episode finished (score so far %g)\n", score);
    free(picture);
    free(obs);
    prism_env_free(&env);
    return CLI_OK;
}
