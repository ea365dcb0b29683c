/* box2d_shim.h — the few Box2D 2.4 calls LunarLander needs, as a C API.
 *
 * Box2D's API is C++; box2d_shim.cpp wraps exactly what lunar_lander.c uses (a world with a
 * contact callback, static edge bodies, dynamic polygon / box bodies, revolute joints, forces
 * and impulses, the body state) behind opaque handles, so the environment itself stays C. It is
 * not a general binding: add a call here when an environment needs one.
 *
 * Numbers cross the boundary as float because Box2D stores float32; callers that compute in
 * double (as Gymnasium does in Python) round when they call, exactly as pybox2d does.
 * Memory: a world owns its bodies, fixtures and joints; destroying the world frees them all.
 * Box2D allocates through malloc (b2Alloc), not prism_alloc. No function throws.
 */
#ifndef PRISM_BOX2D_SHIM_H
#define PRISM_BOX2D_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prism_b2_world prism_b2_world; /* a b2World plus its contact listener */
typedef struct prism_b2_body prism_b2_body;   /* a b2Body */

/* Called from inside prism_b2_world_step when two fixtures start (begin = true) or stop
 * touching; a and b are the fixtures' bodies. */
typedef void (*prism_b2_contact_fn)(void *ctx, const prism_b2_body *a, const prism_b2_body *b,
                                    bool begin);

/* Material and collision filter of one fixture (Box2D's b2FixtureDef fields). */
typedef struct prism_b2_fixture {
    float density, friction, restitution;
    uint16_t category, mask; /* Box2D's defaults are 0x0001 and 0xFFFF */
} prism_b2_fixture;

/* Box2D's b2RevoluteJointDef fields that LunarLander sets; the rest keep Box2D's defaults
 * (connected bodies do not collide). */
typedef struct prism_b2_revolute {
    float anchor_a[2], anchor_b[2]; /* local anchors */
    float reference_angle;          /* angle of b minus angle of a at which the joint reads 0 */
    bool enable_motor, enable_limit;
    float max_motor_torque, motor_speed, lower_angle, upper_angle;
} prism_b2_revolute;

/* The kinematic state of a body, as Box2D holds it. */
typedef struct prism_b2_body_state {
    float x, y, angle, vx, vy, omega;
    bool awake;
} prism_b2_body_state;

/* The linked Box2D's version as major * 100 + minor * 10 + revision: 240 for Debian's 2.4.1
 * (whose b2_version still says 2.4.0), 230 for the 2.3 that pybox2d (Gymnasium's binding)
 * embeds. */
int prism_b2_version(void);

/* A new world with gravity (gx, gy) whose contact events go to fn(ctx, ...) (fn may be NULL).
 * Returns NULL when memory runs out. Free with prism_b2_world_destroy. */
prism_b2_world *prism_b2_world_create(float gx, float gy, prism_b2_contact_fn fn, void *ctx);
/* Destroy a world and everything in it (NULL is a no-op). */
void prism_b2_world_destroy(prism_b2_world *w);
/* One b2World::Step. */
void prism_b2_world_step(prism_b2_world *w, float dt, int velocity_iterations,
                         int position_iterations);

/* A body at (x, y) with the given angle: static when `dynamic` is false. Owned by the world. */
prism_b2_body *prism_b2_body_create(prism_b2_world *w, bool dynamic, float x, float y, float angle);
/* Fixtures, in the order Box2D will see them (each call prepends to the body's list, as in
 * Box2D). The edge is two-sided (Box2D 2.3's only kind). The polygon's n <= 8 vertices are
 * hulled by Box2D (b2PolygonShape::Set); the box is b2PolygonShape::SetAsBox(hx, hy). */
void prism_b2_body_add_edge(prism_b2_body *b, float x1, float y1, float x2, float y2,
                            const prism_b2_fixture *f);
void prism_b2_body_add_polygon(prism_b2_body *b, const float *xy, int n, const prism_b2_fixture *f);
void prism_b2_body_add_box(prism_b2_body *b, float hx, float hy, const prism_b2_fixture *f);
/* A revolute joint between a and b (owned by the world). */
void prism_b2_revolute_create(prism_b2_world *w, prism_b2_body *a, prism_b2_body *b,
                              const prism_b2_revolute *def);

void prism_b2_body_apply_force_to_center(prism_b2_body *b, float fx, float fy, bool wake);
void prism_b2_body_apply_linear_impulse(prism_b2_body *b, float ix, float iy, float px, float py,
                                        bool wake);
prism_b2_body_state prism_b2_body_get_state(const prism_b2_body *b);
/* World-space vertices (x, y pairs) of the body's first polygon fixture, for drawing: writes at
 * most max vertices into xy (2 * max floats) and returns how many it wrote (0: no polygon). */
int prism_b2_body_polygon(const prism_b2_body *b, float *xy, int max);

#ifdef __cplusplus
}
#endif

#endif
