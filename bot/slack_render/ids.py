"""The ids rendered messages carry and listeners route on: one name, both ends."""

ACTION_FEEDBACK_UP = "feedback_up"
ACTION_FEEDBACK_DOWN = "feedback_down"
ACTION_SHARE = "share_answer"
ACTION_FORWARD = "forward_to_contact"  # listener: bot/listeners/actions/forward.py (hand-off)
ANSWER_ACTIONS_BLOCK = "answer_actions"
SHORTCUT_ASK_POLICY = "ask_policy"
COMMAND_POLICY = "/policy"

# the forward modal (bot/slack_render/forward.py builds it, bot/listeners/actions/forward.py reads it)
FORWARD_CALLBACK_ID = "forward_to_contact_modal"
FORWARD_QUESTION_BLOCK, FORWARD_CONTEXT_BLOCK, FORWARD_REPLY_BLOCK = "question", "context", "reply_to"
FORWARD_INPUT_ACTION = "value"
