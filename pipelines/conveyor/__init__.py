"""conveyor"""
