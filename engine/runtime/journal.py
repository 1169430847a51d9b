"""The types of the events a step writes to an instance's journal.

The values are the strings stored in the journal (and read by the audit
queries, the XES export and the web UI), so a member is never renamed; a new
fact gets a new member.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["EventType"]


class EventType(StrEnum):
    INSTANCE_STARTED = "instance_started"
    INSTANCE_COMPLETED = "instance_completed"
    INSTANCE_TERMINATED = "instance_terminated"
    ELEMENT_ACTIVATED = "element_activated"
    ELEMENT_COMPLETED = "element_completed"
    ELEMENT_TERMINATED = "element_terminated"
    FLOW_TAKEN = "flow_taken"
    VARIABLES_UPDATED = "variables_updated"
    VARIABLES_SET = "variables_set"  # set from outside (the names, never the values, and who set them)
    INCIDENT_CREATED = "incident_created"
    INCIDENT_RESOLVED = "incident_resolved"
    JOB_CREATED = "job_created"
    JOB_COMPLETED = "job_completed"
    JOB_PARKED = "job_parked"
    USER_TASK_CREATED = "user_task_created"
    USER_TASK_COMPLETED = "user_task_completed"
    USER_TASK_CLAIMED = "user_task_claimed"  # assigned or (assignee null) unassigned
    USER_TASK_COMPLETING = "user_task_completing"  # a completion waits for the task's completing listeners
    USER_TASK_DENIED = "user_task_denied"  # a completing listener denied the completion: the task stays open
    USER_TASK_ASSIGNING = "user_task_assigning"  # an assignment waits for the task's assigning listeners
    USER_TASK_UPDATING = "user_task_updating"  # an update waits for the task's updating listeners
    USER_TASK_DRAFT_SAVED = "user_task_draft_saved"  # a person's draft of the task's values kept with the task
    USER_TASK_CANCELING = "user_task_canceling"  # a canceled task's element ends once its canceling listeners ran
    USER_TASK_UPDATED = "user_task_updated"  # candidate groups or users, dates, priority changed
    USER_TASK_CORRECTED = "user_task_corrected"  # a task listener corrected the task (assignee, dates ...)
    EVENT_RECEIVED = "event_received"  # a message or signal someone sent reached a waiting element
    CHILD_STARTED = "child_started"
    DECISION_EVALUATED = "decision_evaluated"  # a business rule task's decision: id, version and matched rules
    ERROR_THROWN = "error_thrown"
    ERROR_CAUGHT = "error_caught"
    ESCALATION_THROWN = "escalation_thrown"
    ESCALATION_CAUGHT = "escalation_caught"
    COMPENSATION_STARTED = "compensation_started"
    COMPENSATION_HANDLER_STARTED = "compensation_handler_started"
    COMPENSATION_COMPLETED = "compensation_completed"
    AD_HOC_ELEMENT_ACTIVATED = "ad_hoc_element_activated"
    AGENT_STARTED = "agent_started"
    AGENT_MODEL_CALLED = "agent_model_called"
    AGENT_TOOL_CALL = "agent_tool_call"
    AGENT_TOOL_RESULT = "agent_tool_result"
    AGENT_APPROVAL_REQUESTED = "agent_approval_requested"
    AGENT_APPROVAL_DECIDED = "agent_approval_decided"
    AGENT_APPROVAL_GIVEN = "agent_approval_given"  # one of several approvers a call needs approved it
    AGENT_APPROVAL_DUE = "agent_approval_due"  # an approval got a due date from its policy (or the date was invalid)
    AGENT_APPROVAL_EXPIRED = "agent_approval_expired"  # past its due date, onTimeout="reject": the call did not run
    AGENT_APPROVAL_ESCALATED = "agent_approval_escalated"  # past its due date, onTimeout="escalate"
    AGENT_FINISHED = "agent_finished"
    AGENT_LIMIT_REACHED = "agent_limit_reached"
