// box2d_shim.cpp — Box2D 2.4 behind the C API of box2d_shim.h (see there for the contract).
//
// This is the only C++ in prism. It does no physics of its own: each function forwards to one
// Box2D call. A prism_b2_body * is the b2Body * itself; a prism_b2_world owns the b2World and
// the contact listener that forwards BeginContact / EndContact to a C callback.
#include "box2d_shim.h"

#include <box2d/box2d.h>

#include <new>

namespace {

class Listener : public b2ContactListener {
  public:
    prism_b2_contact_fn fn = nullptr;
    void *ctx = nullptr;
    void BeginContact(b2Contact *c) override { forward(c, true); }
    void EndContact(b2Contact *c) override { forward(c, false); }

  private:
    void forward(b2Contact *c, bool begin) {
        if (!fn) return;
        fn(ctx, reinterpret_cast<const prism_b2_body *>(c->GetFixtureA()->GetBody()),
           reinterpret_cast<const prism_b2_body *>(c->GetFixtureB()->GetBody()), begin);
    }
};

b2Body *body(prism_b2_body *b) {
    return reinterpret_cast<b2Body *>(b);
}
const b2Body *body(const prism_b2_body *b) {
    return reinterpret_cast<const b2Body *>(b);
}

void add_fixture(b2Body *b, const b2Shape *shape, const prism_b2_fixture *f) {
    b2FixtureDef fd;
    fd.shape = shape;
    fd.density = f->density;
    fd.friction = f->friction;
    fd.restitution = f->restitution;
    fd.filter.categoryBits = f->category;
    fd.filter.maskBits = f->mask;
    b->CreateFixture(&fd);
}

} // namespace

struct prism_b2_world {
    b2World world;
    Listener listener;
    explicit prism_b2_world(const b2Vec2 &g) : world(g) {}
};

extern "C" {

int prism_b2_version(void) {
    return b2_version.major * 100 + b2_version.minor * 10 + b2_version.revision;
}

prism_b2_world *prism_b2_world_create(float gx, float gy, prism_b2_contact_fn fn, void *ctx) {
    // b2World embeds its ~100 KiB stack allocator; a failed new must not throw into C.
    prism_b2_world *w = new (std::nothrow) prism_b2_world(b2Vec2(gx, gy));
    if (!w) return nullptr;
    w->listener.fn = fn;
    w->listener.ctx = ctx;
    w->world.SetContactListener(&w->listener);
    return w;
}

void prism_b2_world_destroy(prism_b2_world *w) {
    delete w;
}

void prism_b2_world_step(prism_b2_world *w, float dt, int velocity_iterations,
                         int position_iterations) {
    w->world.Step(dt, velocity_iterations, position_iterations);
}

prism_b2_body *prism_b2_body_create(prism_b2_world *w, bool dynamic, float x, float y,
                                    float angle) {
    b2BodyDef bd;
    bd.type = dynamic ? b2_dynamicBody : b2_staticBody;
    bd.position.Set(x, y);
    bd.angle = angle;
    return reinterpret_cast<prism_b2_body *>(w->world.CreateBody(&bd));
}

void prism_b2_body_add_edge(prism_b2_body *b, float x1, float y1, float x2, float y2,
                            const prism_b2_fixture *f) {
    b2EdgeShape edge;
    edge.SetTwoSided(b2Vec2(x1, y1), b2Vec2(x2, y2));
    add_fixture(body(b), &edge, f);
}

void prism_b2_body_add_polygon(prism_b2_body *b, const float *xy, int n,
                               const prism_b2_fixture *f) {
    b2Vec2 v[b2_maxPolygonVertices];
    if (n > b2_maxPolygonVertices) n = b2_maxPolygonVertices;
    for (int i = 0; i < n; i++) v[i].Set(xy[2 * i], xy[2 * i + 1]);
    b2PolygonShape poly;
    poly.Set(v, n);
    add_fixture(body(b), &poly, f);
}

void prism_b2_body_add_box(prism_b2_body *b, float hx, float hy, const prism_b2_fixture *f) {
    b2PolygonShape poly;
    poly.SetAsBox(hx, hy);
    add_fixture(body(b), &poly, f);
}

void prism_b2_revolute_create(prism_b2_world *w, prism_b2_body *a, prism_b2_body *b,
                              const prism_b2_revolute *def) {
    b2RevoluteJointDef jd;
    jd.bodyA = body(a);
    jd.bodyB = body(b);
    jd.localAnchorA.Set(def->anchor_a[0], def->anchor_a[1]);
    jd.localAnchorB.Set(def->anchor_b[0], def->anchor_b[1]);
    jd.referenceAngle = def->reference_angle;
    jd.enableMotor = def->enable_motor;
    jd.enableLimit = def->enable_limit;
    jd.maxMotorTorque = def->max_motor_torque;
    jd.motorSpeed = def->motor_speed;
    jd.lowerAngle = def->lower_angle;
    jd.upperAngle = def->upper_angle;
    w->world.CreateJoint(&jd);
}

void prism_b2_body_apply_force_to_center(prism_b2_body *b, float fx, float fy, bool wake) {
    body(b)->ApplyForceToCenter(b2Vec2(fx, fy), wake);
}

void prism_b2_body_apply_linear_impulse(prism_b2_body *b, float ix, float iy, float px, float py,
                                        bool wake) {
    body(b)->ApplyLinearImpulse(b2Vec2(ix, iy), b2Vec2(px, py), wake);
}

prism_b2_body_state prism_b2_body_get_state(const prism_b2_body *b) {
    const b2Body *bb = body(b);
    const b2Vec2 &p = bb->GetPosition();
    const b2Vec2 &v = bb->GetLinearVelocity();
    return prism_b2_body_state{
        p.x, p.y, bb->GetAngle(), v.x, v.y, bb->GetAngularVelocity(), bb->IsAwake()};
}

int prism_b2_body_polygon(const prism_b2_body *b, float *xy, int max) {
    const b2Body *bb = body(b);
    for (const b2Fixture *f = bb->GetFixtureList(); f; f = f->GetNext()) {
        if (f->GetType() != b2Shape::e_polygon) continue;
        const b2PolygonShape *poly = static_cast<const b2PolygonShape *>(f->GetShape());
        int n = poly->m_count < max ? poly->m_count : max;
        for (int i = 0; i < n; i++) {
            b2Vec2 p = b2Mul(bb->GetTransform(), poly->m_vertices[i]);
            xy[2 * i] = p.x;
            xy[2 * i + 1] = p.y;
        }
        return n;
    }
    return 0;
}

} // extern "C"
