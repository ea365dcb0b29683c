/* Edit distance for "did you mean" suggestions (unknown keys, ids, options). Not a general
 * string-similarity library: short names only. */
#include "prism/core.h"

#include <ctype.h>
#include <string.h>

int prism_edit_distance(const char *a, const char *b) {
    /* names are short; longer text is compared on its first 63 characters, which keeps the
     * two rows on the stack */
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63) la = 63;
    if (lb > 63) lb = 63;
    int prev[64], cur[64];
    for (int j = 0; j <= lb; j++) prev[j] = j;
    for (int i = 1; i <= la; i++) {
        cur[0] = i;
        for (int j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int best = prev[j - 1] + cost;
            if (prev[j] + 1 < best) best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
    }
    return prev[lb];
}
