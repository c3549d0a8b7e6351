"""Character templates: what each panel of a sheet (or the single frame) shows, the
prompt a generative engine gets for it, and the framing and mood the local engine
uses instead (it cannot change expression or pose, and says so)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    label: str
    prompt: str  # what this panel asks a generative engine for
    framing: float = 0.30  # face share of the panel height (local engine)
    grade: str = "neutral"  # local engine mood grade
    light: str = "soft"
    x_offset: float = 0.0


@dataclass(frozen=True)
class Template:
    slug: str
    name: str
    kind: str  # "single" | "grid"
    panels: tuple[Panel, ...]
    lock_seed: bool = True  # one seed for every panel: same character, same look
    columns: int = 1
    rows: int = 1
    over_shoulder: bool = False

    @property
    def is_grid(self) -> bool:
        return self.kind == "grid"


EXPRESSIONS = (
    ("Happy", "happy, warm genuine smile", "warm"),
    ("Sad", "sad, downcast eyes, lips pressed", "cool"),
    ("Angry", "angry, furrowed brows, clenched jaw", "low_key"),
    ("Surprised", "surprised, raised eyebrows, open mouth", "clean"),
    ("Fear", "afraid, wide eyes, tense", "cool"),
    ("Disgust", "disgusted, wrinkled nose, curled lip", "matte"),
    ("Neutral", "neutral, relaxed face", "neutral"),
    ("Smirk", "smirking, one corner of the mouth raised", "film"),
    ("Laugh", "laughing out loud, eyes creased", "vivid"),
)
ACTION_POSES = (
    "Walking",
    "Running",
    "Fighting Stance",
    "Sitting",
    "Jumping",
    "Falling",
    "Kneeling",
    "Pointing",
    "Arms Crossed",
)
POSE_VARIANTS = (
    ("Front", "full body, facing the camera, front view", 0.12),
    ("Back", "full body, seen from behind, back view", 0.12),
    ("Left", "full body, left side profile view", 0.12),
    ("Right", "full body, right side profile view", 0.12),
    ("45°", "full body, three-quarter view at 45 degrees", 0.12),
    ("Walking", "full body, walking towards the camera", 0.12),
    ("Seated", "seated on a stool, full body", 0.14),
    ("Hand on Hip", "standing with one hand on the hip, full body", 0.12),
    ("Close-up", "close-up portrait of the face", 0.40),
)
SCENES = (
    ("hero", "Hero Shot", "heroic low-angle shot, dramatic sky, confident stance", "teal_orange", "dramatic"),
    ("villain-reveal", "Villain Reveal", "villain reveal, emerging from shadow, menacing, hard rim light",
     "low_key", "dramatic"),
    ("emotional-breakdown", "Emotional Breakdown", "emotional breakdown, tears, raw vulnerable moment",
     "cool", "soft"),
    ("victory", "Victory Pose", "victory pose, arms raised, triumphant, golden hour light", "warm", "bright"),
    ("defeated", "Defeated / Exhausted", "defeated and exhausted, slumped shoulders, overcast light",
     "matte", "flat"),
)  # fmt: skip


def _grid(slug: str, name: str, panels: tuple[Panel, ...]) -> Template:
    return Template(slug, name, "grid", panels, lock_seed=True, columns=3, rows=3)


TEMPLATES: dict[str, Template] = {
    template.slug: template
    for template in (
        Template("headshot", "Headshot", "single", (Panel("Headshot", "close-up headshot", 0.36),)),
        Template("medium-shot", "Medium Shot", "single",
                 (Panel("Medium Shot", "medium shot, torso up", 0.17),)),
        Template("full-body", "Full Body", "single",
                 (Panel("Full Body", "full body standing, head to toe", 0.09),)),
        Template("over-the-shoulder", "Over the Shoulder", "single",
                 (Panel("Over the Shoulder", "over-the-shoulder shot, foreground shoulder out of focus",
                        0.26, x_offset=0.16),), over_shoulder=True),
        _grid("expression-sheet", "3x3 Expression Sheet", tuple(
            Panel(label, f"{prompt} facial expression, head and shoulders", 0.34, grade)
            for label, prompt, grade in EXPRESSIONS)),
        _grid("action-poses", "Action Poses", tuple(
            Panel(label, f"{label.lower()} action pose, full body, dynamic", 0.14) for label in ACTION_POSES)),
        _grid("pose-sheet", "Pose Sheet", tuple(
            Panel(label, prompt, framing) for label, prompt, framing in POSE_VARIANTS)),
        *(Template(slug, name, "single", (Panel(name, prompt, 0.22, grade, light),))
          for slug, name, prompt, grade, light in SCENES),
    )
}  # fmt: skip

CHARACTER_ASPECT_RATIOS = ("1:1", "4:3", "3:4", "16:9", "9:16")
