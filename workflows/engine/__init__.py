"""The only package that imports SpiffWorkflow. The rest of Fuzhu talks to the engine here."""
