"""What the synthetic footage says: demo scenarios and the long file's sentence pools.

Kept apart from :mod:`scripts.footage`, which turns these words into audio
and video. Every line is our own wording, British English as said on
body-worn video.
"""

from __future__ import annotations

from dataclasses import dataclass

WEARER = "wearer"
PUBLIC = "public"


@dataclass(frozen=True)
class Line:
    """One line of a scenario: who says it (``wearer`` or ``public``) and what."""

    speaker: str
    text: str


@dataclass(frozen=True)
class Scenario:
    """A short scripted incident, spoken line by line."""

    name: str
    lines: tuple[Line, ...]



def _scenario(name: str, script: str) -> Scenario:
    """A scenario from a script: one line each, ``W:`` for the wearer, ``P:`` for the public."""
    speakers = {"W": WEARER, "P": PUBLIC}
    lines = [row.split(":", 1) for row in script.strip().splitlines()]
    return Scenario(name, tuple(Line(speakers[who.strip()], text.strip()) for who, text in lines))


SCENARIOS: tuple[Scenario, ...] = (
    _scenario(
        "domestic_kitchen",
        """
W: Hello, I'm PC Daniel Hughes. I'm here because your neighbour rang us about shouting.
P: He's gone now. He walked out about ten minutes ago.
W: Okay. First of all, has anyone been hurt? Do you feel safe right now?
P: Not really. He grabbed me by the throat against the fridge and I couldn't breathe.
W: That sounds frightening. In your own time, tell me what happened tonight.
P: We were arguing about money, and he said he'd kill me if I ever called the police.
W: Thank you for telling me. Nobody is blaming you, and you can stop at any time.
W: I'd like to make a referral, so a specialist can ring you tomorrow.
""",
    ),
    _scenario(
        "missing_daughter",
        """
W: Good afternoon, I'm PC Sarah Bennett. I'm here because you rang about your daughter.
P: My daughter hasn't come home since Tuesday. She's fifteen, she's never done this.
W: I can see how worried you are. When did you last hear from her?
P: She texted on Tuesday night saying she was at a friend's, but the friend says she never came.
W: Has anyone new come into her life recently?
P: There's an older lad with a black car who picks her up from school. She's got a new phone I never bought.
W: That's really helpful. We're treating this as high risk, and officers are out looking now.
""",
    ),
    _scenario(
        "found_teenager",
        """
W: Hiya, I'm PC Tom Walker. You're not in any trouble. People are worried about you.
P: I can't go home. They'll know I've been talking to you.
W: Who will know? Tell me what's been going on, whatever you feel able to.
P: I owe them money so I have to run drugs for them. The debt goes up every week.
W: That is not your fault. Adults who make young people do that are committing a crime.
P: I've been cutting myself, because I don't know how to get out of it.
W: Thank you for trusting me. Is anything bleeding now, or do you need a doctor?
P: No, it's not fresh. I just want to sleep somewhere warm.
""",
    ),
    _scenario(
        "welfare_check_flat",
        """
W: Police, it's PC Ravi Shah. Your sister asked us to check you're okay. Can you open the door?
P: Please, I can't breathe, I'm panicking and it won't stop.
W: Okay, I'm right here with you. Breathe in slowly with me, and out. You're doing well.
P: Sorry. It's this time of year. It brings everything back.
W: There's no need to say sorry. Would you like to tell me what's on your mind?
P: When I was little my dad used to beat me with his belt. Nobody fed us for days.
W: I'm so sorry that happened to you. None of it was your fault.
W: Would you like a referral to a support service? It's completely your choice.
""",
    ),
    _scenario(
        "street_disturbance",
        """
W: Right, what's all this noise about then?
P: Those lads have been throwing stones at my window every night this week.
W: Well, if you didn't shout at them they'd leave you alone. You've brought this on yourself.
P: I'm scared to go out. One of them said he'd set fire to my car.
W: They're only kids messing about. We've got proper jobs to get to.
P: You're not even listening to me.
W: Calm down. Get back inside. Now.
W: Honestly, you're pathetic. Stop wasting police time.
""",
    ),
    _scenario(
        "domestic_doorstep",
        """
W: Hello, I'm PC Emma Clarke. Someone reported a disturbance here. Has anyone been hurt?
P: It's my mum. He's been hitting her for years, and tonight he smashed the telly.
W: You did the right thing opening the door. Is anyone else in the house?
P: My little brother is hiding under his bed upstairs. He's only six.
W: Okay. You can stop whenever you like, but can you tell me what happened?
P: He came home drunk and threw a chair at her. The kids saw everything.
W: That must have been really scary. Nobody is blaming you for any of this.
W: I'll make a referral to Victim Support and to children's services, so you both get help.
""",
    ),
)


# --- The long file: many distinct sentences from templates and slot fillers ---

FILL: dict[str, tuple[str, ...]] = {
    "girl": ("Jade", "Aisha", "Chloe", "Megan", "Hannah", "Sophie", "Leah", "Amber", "Paige", "Ellie"),
    "boy": ("Connor", "Liam", "Kieran", "Tyler", "Jamal", "Reece", "Callum", "Dylan", "Nathan", "Marcus"),
    "street": ("Station Road", "Church Lane", "the High Street", "Mill Street", "Victoria Road",
               "Queens Avenue", "Park Crescent", "Canal Street", "Albert Terrace", "Windsor Close"),
    "place": ("chip shop", "bus station", "corner shop", "park", "leisure centre", "pub on the corner",
              "car park behind the flats", "school gates", "petrol station", "playground", "bookies", "launderette"),
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "time": ("about nine o'clock", "half past ten", "just after midnight", "teatime", "quarter to eight",
             "about two in the morning", "lunchtime", "half six"),
    "rel": ("partner", "boyfriend", "ex", "brother", "stepdad", "son", "husband", "neighbour", "landlord", "cousin"),
    "num": ("two", "three", "four", "five", "six", "seven", "ten", "twelve"),
    "officer": ("Hughes", "Bennett", "Walker", "Shah", "Clarke", "Morgan", "Patel", "Reid", "Foster", "Doyle"),
    "reason": ("a neighbour heard screaming", "your mum rang us", "someone reported a fight in the street",
               "we were asked to check on you", "there's been a report of a missing girl",
               "your alarm went off", "a caller was worried about the children", "we had a call about damage to a car"),
}  # fmt: skip

WEARER_TEMPLATES: tuple[str, ...] = (
    "Can you tell me what happened on {street} earlier?",
    "When did you last see {name}?",
    "Has anyone been hurt tonight?",
    "Do you feel safe staying here on your own?",
    "Take your time. What happened after that?",
    "Is there anyone who could stay with you tonight?",
    "Did {name} say where they were going?",
    "What was {name} wearing when you last saw them?",
    "Have you spoken to anyone else about this?",
    "Does {name} have a phone with them?",
    "Was anybody else near the {place} at the time?",
    "Has this happened before?",
    "How long have you known {name}?",
    "Is {name} on any medication we should know about?",
    "I'm going to write that down so I get it right.",
    "You're not in any trouble. I just want to understand what happened.",
    "Nobody is blaming you for this.",
    "You can stop at any time if you need a break.",
    "Would you like me to pass your details to Victim Support?",
    "I can make a referral to a local support service, if you'd like.",
    "So you were at the {place} at {time}, is that right?",
    "Did you recognise any of them?",
    "Can you describe the car for me?",
    "Are there any cameras along {street}?",
    "Do you have somewhere safe to go tonight?",
    "Has {name} got any friends we should speak to?",
    "What time did you get home on {day}?",
    "Have you noticed any changes in {name} lately?",
    "Tell me a bit more about your {rel}.",
    "Are there any children living in the house?",
    "Does your {rel} have a key to this flat?",
    "Has your {rel} ever threatened you before?",
    "How are you feeling right now?",
    "Is there anything you need from me before we carry on?",
    "I'll get an ambulance to have a look at that arm.",
    "Where do you think {name} might go if they were upset?",
    "Did anyone touch you or grab you?",
    "That sounds really hard. Thank you for telling me.",
    "What would help you most tonight?",
    "Is {name} usually home by {time}?",
    "Can I take a photo of that bruise for the file?",
    "I'll ask another officer to check the {place}.",
    "We'll keep looking until we find {name}.",
    "Have you had anything to eat or drink today?",
    "Are you worried about anyone else getting hurt?",
    "Which way did they run after that?",
    "Does {girl} have any money on her?",
    "Has {boy} been in touch with anyone online?",
    "Can you show me where it happened?",
    "I'm going to stay here with you until help arrives.",
    "Can we sit down somewhere a bit quieter?",
    "Would you prefer to talk to a female officer?",
    "We'll go round to {street} and have a look now.",
)

PUBLIC_TEMPLATES: tuple[str, ...] = (
    "I last saw {name} on {day} at {time}.",
    "{name} went down to the {place} and never came back.",
    "My {rel} has been shouting at me all week.",
    "He pushed me into the door and I banged my head.",
    "She said she was going to the {place} on {street}.",
    "There were three lads in hoodies hanging round the {place}.",
    "I heard glass smashing at {time}.",
    "They drove off in a silver car towards {street}.",
    "I've lived on {street} for {num} years and it's never been this bad.",
    "My {rel} takes my bank card and won't give it back.",
    "I'm frightened he'll come back tonight.",
    "{name} has been really quiet since the summer.",
    "She keeps coming home with new clothes and I don't know where the money comes from.",
    "I rang my {rel} straight away but nobody answered.",
    "He said if I ever left him he'd hurt the dog.",
    "I don't want to get anyone into trouble.",
    "I think they were selling something behind the {place}.",
    "The kids were asleep upstairs when it started.",
    "I'd had a couple of drinks, but I know what I saw.",
    "He's not supposed to come near me, there's a court order.",
    "I just want someone to check that {name} is alright.",
    "{name} was wearing a blue coat and white trainers.",
    "I've not slept properly for {num} nights.",
    "Nobody ever listens when I ring.",
    "He grabbed my arm and wouldn't let go.",
    "My neighbour heard it as well, she lives at number {num}.",
    "I found messages on her phone from a man called {boy}.",
    "They were kicking a football at my windows on {day} night.",
    "When I was a kid my {rel} used to hit us all the time.",
    "I feel sick every time I hear the front door.",
    "He smashed my phone so I couldn't call anyone.",
    "My son owes some people money and they keep coming round.",
    "She's only fourteen, she should be at home.",
    "I can't stop shaking, sorry.",
    "It started when he lost his job last year.",
    "I'm fine, honestly, it's just a scratch.",
    "He locked me in the bathroom for {num} hours.",
    "There's a man who waits outside the {place} every afternoon.",
    "I didn't call you, it was the woman across the road.",
    "I want him out of the house, that's all.",
    "He said nobody would believe me anyway.",
    "{girl} hasn't answered her phone since {day}.",
    "My {rel} was here, but he ran off when he saw the car.",
    "They've been dealing out of the flat upstairs for months.",
    "I've got nowhere else to go.",
    "I keep thinking it's my fault.",
    "My little girl saw the whole thing.",
    "I had to climb out of the window to get away.",
    "He checks my phone every night when he gets in.",
    "I haven't seen my family in {num} months, he won't let me.",
    "We were just walking past the {place} when they started on us.",
    "I can hardly breathe, can you give me a minute?",
    "The back door was already open when I got in from work.",
    "{boy} told me he'd been sleeping at a mate's house near {street}.",
    "She turned up at {time} covered in mud and wouldn't say why.",
    "Every time I report it, he finds out and it gets worse.",
    "I saw a red van parked outside the {place} for ages.",
    "My {rel} keeps ringing me from a withheld number.",
    "I moved here to get away from him, but he found me.",
    "There's blood on the stairs, I didn't know what to do.",
)

WEARER_OPENERS = ("", "", "", "Okay. ", "Right. ", "Alright. ", "Thanks. ", "I see. ", "Sorry, ")
PUBLIC_OPENERS = (
    "",
    "",
    "",
    "Well, ",
    "Honestly, ",
    "I mean, ",
    "Yeah. ",
    "No. ",
    "To be honest, ",
)


