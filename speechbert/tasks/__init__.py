"""Training tasks: each one supplies the model, data and collate function to the generic trainer.

See :class:`speechbert.tasks.abs_task.AbsTask` for the interface.
"""
