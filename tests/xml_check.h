/* tests/xml_check.h — a tiny well-formedness checker for the SVG and (XHTML-style) HTML that
 * report/ writes: balanced and properly nested tags, quoted attributes, known entities. Not a
 * validating parser. */
#ifndef PRISM_TEST_XML_CHECK_H
#define PRISM_TEST_XML_CHECK_H

#include <stddef.h>

/* 0 when text is well formed; otherwise -1 with a description in err. `void_tags` is a
 * space-separated list of HTML elements that never close (e.g. "meta br"), or NULL. Counts
 * the elements named `count_tag` into *count when both are non-NULL. */
int xml_check(const char *text, const char *void_tags, char *err, size_t cap, const char *count_tag,
              int *count);

#endif
